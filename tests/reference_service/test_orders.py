"""Checkout, history and cancellation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import admin, customer, order, product


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/products/{product_id}").json()["available"])


@pytest.mark.req("REQ-ORD-001")
def test_order_from_items(client: TestClient) -> None:
    headers = customer(client)
    item = product(client, admin(client), stock=10, amount=1250)
    response = order(client, headers, [{"product_id": item["id"], "quantity": 3}])
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["total"] == {"amount": 3750, "currency": "USD"}
    assert body["payment"]["status"] == "captured"
    assert response.headers["Location"] == f"/orders/{body['id']}"
    assert _stock(client, item["id"]) == 7
    assert client.get(response.headers["Location"], headers=headers).json() == body


@pytest.mark.req("REQ-ORD-001", "REQ-CART-001")
def test_order_defaults_to_the_cart_and_empties_it(client: TestClient) -> None:
    headers = customer(client)
    client.put("/cart/items/5", json={"quantity": 2}, headers=headers)
    client.put("/cart/items/6", json={"quantity": 1}, headers=headers)
    response = order(client, headers, None)
    assert response.status_code == 201
    assert {(i["product_id"], i["quantity"]) for i in response.json()["items"]} == {(5, 2), (6, 1)}
    assert client.get("/cart", headers=headers).json()["items"] == []


def test_empty_cart_cannot_be_ordered(client: TestClient) -> None:
    response = order(client, customer(client), None)
    assert response.status_code == 409
    assert response.json()["type"].endswith("empty-order")


def test_null_items_are_invalid_not_the_cart(client: TestClient) -> None:
    """`items` absent means the cart; `null` is not an array, so it is refused as the contract
    says (the schema has no null), even with a full cart."""
    headers = {**customer(client), "Idempotency-Key": "null-items"}
    client.put("/cart/items/5", json={"quantity": 1}, headers=headers)
    body = {"items": None, "payment": {"token": "tok_visa"}}
    response = client.post("/orders", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("validation-error")
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "items"]]
    assert len(client.get("/cart", headers=headers).json()["items"]) == 1
    schema = client.get("/openapi.json").json()["components"]["schemas"]["OrderCreate"]
    assert schema["properties"]["items"]["type"] == "array"
    assert (
        schema["properties"]["items"]["minItems"],
        schema["properties"]["items"]["maxItems"],
    ) == (1, 100)


@pytest.mark.req("REQ-ORD-002")
@pytest.mark.parametrize(
    "extra",
    [
        {"total": {"amount": 1, "currency": "USD"}},
        {"status": "confirmed"},
        {"price": 1},
    ],
)
def test_client_prices_totals_and_status_are_rejected(
    client: TestClient, extra: dict[str, object]
) -> None:
    headers = {**customer(client), "Idempotency-Key": "mass-assign"}
    body = {"items": [{"product_id": 1, "quantity": 1}], "payment": {"token": "tok_visa"}, **extra}
    assert client.post("/orders", json=body, headers=headers).status_code == 422
    line_price = {
        "items": [{"product_id": 1, "quantity": 1, "unit_price": {"amount": 1, "currency": "USD"}}],
        "payment": {"token": "tok_visa"},
    }
    assert client.post("/orders", json=line_price, headers=headers).status_code == 422


@pytest.mark.req("REQ-ORD-003")
def test_orders_are_private(client: TestClient) -> None:
    alice, bob = customer(client), customer(client)
    created = order(client, alice, [{"product_id": 2, "quantity": 1}]).json()
    assert client.get(f"/orders/{created['id']}", headers=bob).status_code == 404
    assert client.get("/orders", headers=bob).json()["items"] == []
    assert [o["id"] for o in client.get("/orders", headers=alice).json()["items"]] == [
        created["id"]
    ]
    assert client.post(f"/orders/{created['id']}/cancel", headers=bob).status_code == 404
    assert client.get("/orders/not-a-uuid", headers=alice).status_code in {404, 422}


@pytest.mark.req("REQ-INV-001")
def test_out_of_stock_is_a_409_problem(client: TestClient) -> None:
    item = product(client, admin(client), stock=2)
    response = order(client, customer(client), [{"product_id": item["id"], "quantity": 3}])
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("out-of-stock")
    assert _stock(client, item["id"]) == 2


@pytest.mark.req("REQ-INV-001")
def test_multi_line_order_takes_all_lines_or_none(client: TestClient) -> None:
    boss = admin(client)
    plenty, scarce = product(client, boss, stock=10), product(client, boss, stock=1)
    items = [
        {"product_id": plenty["id"], "quantity": 4},
        {"product_id": scarce["id"], "quantity": 2},
    ]
    assert order(client, customer(client), items).status_code == 409
    assert _stock(client, plenty["id"]) == 10
    assert _stock(client, scarce["id"]) == 1


@pytest.mark.req("REQ-PAY-001")
def test_declined_payment_charges_nothing_and_releases_stock(client: TestClient) -> None:
    boss = admin(client)
    item = product(client, boss, stock=4)
    response = order(
        client, customer(client), [{"product_id": item["id"], "quantity": 2}], token="tok_decline"
    )
    assert response.status_code == 402
    problem = response.json()
    assert problem["type"].endswith("payment-declined")
    assert _stock(client, item["id"]) == 4
    attempts = client.get(f"/admin/orders/{problem['order_id']}/payments", headers=boss).json()
    assert [(a["kind"], a["status"]) for a in attempts] == [("charge", "failed")]


@pytest.mark.req("REQ-ORD-004")
def test_cancel_refunds_and_restocks_once(client: TestClient) -> None:
    boss, headers = admin(client), customer(client)
    item = product(client, boss, stock=5)
    created = order(client, headers, [{"product_id": item["id"], "quantity": 2}]).json()
    assert _stock(client, item["id"]) == 3
    cancelled = client.post(f"/orders/{created['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _stock(client, item["id"]) == 5
    again = client.post(f"/orders/{created['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert _stock(client, item["id"]) == 5
    attempts = client.get(f"/admin/orders/{created['id']}/payments", headers=boss).json()
    assert [(a["kind"], a["status"]) for a in attempts] == [
        ("charge", "succeeded"),
        ("refund", "succeeded"),
    ]
    assert all(a["amount"] == created["total"]["amount"] for a in attempts)
