"""What an order holds is what the customer asked for: per-line limits across repeated
lines, one currency, and a cart that keeps what checkout did not order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference_service.cart import service as cart
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-CART-001")


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/products/{product_id}").json()["available"])


def _problem(response: Any, code: str) -> dict[str, Any]:
    # 409: a business rule on the catalog's state, not a schema violation (ADR-015).
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{code}"
    return body


def _cart(client: TestClient, headers: dict[str, str]) -> list[tuple[int, int]]:
    items = client.get("/cart", headers=headers).json()["items"]
    return [(i["product_id"], i["quantity"]) for i in items]


@pytest.mark.req("REQ-ORD-005")
def test_repeated_lines_count_together_against_the_line_limit(make_client: AppFactory) -> None:
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=1000, amount=100)
    five_times = [{"product_id": item["id"], "quantity": 99}] * 5
    body = _problem(order(client, headers, five_times), "quantity-out-of-range")
    assert body["product_id"] == item["id"]
    assert _stock(client, item["id"]) == 1000
    assert ledger(app, "primary").captures == 0
    # Repeats within the limit merge into one line.
    twice = [{"product_id": item["id"], "quantity": 40}] * 2
    placed = order(client, headers, twice)
    assert placed.status_code == 201, placed.text
    assert [(i["product_id"], i["quantity"]) for i in placed.json()["items"]] == [(item["id"], 80)]
    assert _stock(client, item["id"]) == 920


def _add_during_checkout(app: FastAPI, user_id: uuid.UUID, changes: dict[int, int]) -> None:
    """Between reserve and confirm (when checkout announces the stock it took, before the
    charge), the customer edits the cart in another tab."""
    checkout = app.state.runtime.checkout
    announce = checkout.on_stock_change
    pending = dict(changes)

    async def edit_the_cart(product_ids: list[int]) -> None:
        await announce(product_ids)
        async with app.state.runtime.sessions.begin() as session:
            while pending:
                product_id, quantity = pending.popitem()
                await cart.set_line(session, user_id, product_id, quantity, max_lines=100)

    checkout.on_stock_change = edit_the_cart


@pytest.mark.req("REQ-ORD-005")
def test_checkout_clears_only_the_lines_it_ordered(make_client: AppFactory) -> None:
    app, client = make_client()
    headers = customer(client)
    user_id = uuid.UUID(client.get("/users/me", headers=headers).json()["id"])
    boss = admin(client)
    kept, changed, added = (product(client, boss, amount=500) for _ in range(3))
    client.put(f"/cart/items/{kept['id']}", json={"quantity": 2}, headers=headers)
    client.put(f"/cart/items/{changed['id']}", json={"quantity": 1}, headers=headers)
    _add_during_checkout(app, user_id, {added["id"]: 3, changed["id"]: 4})
    placed = order(client, headers, None)
    assert placed.status_code == 201, placed.text
    ordered = {(i["product_id"], i["quantity"]) for i in placed.json()["items"]}
    assert ordered == {(kept["id"], 2), (changed["id"], 1)}
    # The ordered line is gone; the new line and the changed one stay as the customer left them.
    assert _cart(client, headers) == sorted([(changed["id"], 4), (added["id"], 3)])


def _product_in(client: TestClient, boss: dict[str, str], currency: str) -> dict[str, Any]:
    sku = f"T-{uuid.uuid4().hex[:10]}"
    body = {
        "sku": sku,
        "name": f"Test product {sku}",
        "category": "testing",
        "price": {"amount": 700, "currency": currency},
        "stock": 10,
    }
    response = client.post("/admin/products", json=body, headers=boss)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_second_currency_is_refused_when_added(client: TestClient) -> None:
    boss, headers = admin(client), customer(client)
    dollars, euros = _product_in(client, boss, "USD"), _product_in(client, boss, "EUR")
    client.put(f"/cart/items/{dollars['id']}", json={"quantity": 2}, headers=headers)
    response = client.put(f"/cart/items/{euros['id']}", json={"quantity": 1}, headers=headers)
    _problem(response, "mixed-currency")
    assert _cart(client, headers) == [(dollars["id"], 2)]
    assert client.get("/cart", headers=headers).json()["total"] == {
        "amount": 1400,
        "currency": "USD",
    }


def test_a_cart_that_became_mixed_shows_no_single_total(make_client: AppFactory) -> None:
    app, client = make_client()
    boss, headers = admin(client), customer(client)
    first, second = _product_in(client, boss, "USD"), _product_in(client, boss, "USD")
    client.put(f"/cart/items/{first['id']}", json={"quantity": 1}, headers=headers)
    client.put(f"/cart/items/{second['id']}", json={"quantity": 1}, headers=headers)
    moved = client.patch(
        f"/admin/products/{second['id']}",
        json={"price": {"amount": 700, "currency": "EUR"}},
        headers=boss,
    )
    assert moved.status_code == 200
    body = client.get("/cart", headers=headers).json()
    assert body["total"] is None
    assert body["checkout_problem"] == "mixed-currency"
    assert {i["line_total"]["currency"] for i in body["items"]} == {"USD", "EUR"}
    _problem(order(client, headers, None), "mixed-currency")
    assert ledger(app, "primary").captures == 0
    # Taking one currency out makes the cart payable again.
    cart_now = client.delete(f"/cart/items/{second['id']}", headers=headers).json()
    assert cart_now["total"] == {"amount": 700, "currency": "USD"}


@pytest.mark.req("REQ-API-001")
def test_business_rules_are_documented_as_409_not_422(client: TestClient) -> None:
    """Schemathesis' positive data acceptance never allows 422 for schema-valid data, so the
    rules no schema can state are 409s, and the contract says so on each operation."""
    paths = client.get("/openapi.json").json()["paths"]
    rules = ("quantity-out-of-range", "mixed-currency", "amount-out-of-range")
    checkout = paths["/orders"]["post"]["responses"]
    assert all(code in checkout["409"]["description"] for code in rules)
    assert not any(code in checkout["422"]["description"] for code in rules)
    cart_set = paths["/cart/items/{product_id}"]["put"]["responses"]
    assert all(code in cart_set["409"]["description"] for code in rules[1:])
    assert not any(code in cart_set["422"]["description"] for code in rules)
