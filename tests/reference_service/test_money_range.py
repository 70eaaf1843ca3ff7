"""Amounts stay within one range (money.MAX_AMOUNT) in every layer: input, totals, columns."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference_service.money import MAX_AMOUNT
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-ORD-002")

# Two units of this are beyond the range; one unit is within it, but beyond 32 bits.
BIG = MAX_AMOUNT // 2 + 1


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/products/{product_id}").json()["available"])


def _problem(response: Any, code: str) -> None:
    # 409: a business rule on the catalog's state, not a schema violation (ADR-015).
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"/problems/{code}"


def _charged(app: FastAPI) -> int:
    return ledger(app, "primary").captures + ledger(app, "fallback").captures


def test_the_largest_price_is_stored_and_one_more_is_422(client: TestClient) -> None:
    boss = admin(client)
    item = product(client, boss, amount=MAX_AMOUNT)
    assert client.get(f"/products/{item['id']}").json()["price"]["amount"] == MAX_AMOUNT
    over = client.patch(
        f"/admin/products/{item['id']}",
        json={"price": {"amount": MAX_AMOUNT + 1, "currency": "USD"}},
        headers=boss,
    )
    assert over.status_code == 422
    assert client.get(f"/products/{item['id']}").json()["price"]["amount"] == MAX_AMOUNT


def test_an_order_total_beyond_the_range_is_409_before_stock_or_payment(
    make_client: AppFactory,
) -> None:
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=5, amount=BIG)
    items = [{"product_id": item["id"], "quantity": 2}]
    first = order(client, headers, items, key="too-big")
    _problem(first, "amount-out-of-range")
    # Nothing taken, nothing charged, and a retry of the same key is refused the same way.
    _problem(order(client, headers, items, key="too-big"), "amount-out-of-range")
    assert _stock(client, item["id"]) == 5
    assert _charged(app) == 0
    history = client.get("/orders", headers=headers)
    assert history.status_code == 200
    assert history.json()["items"] == []
    # One unit is within the range: charged, stored and shown as it is.
    placed = order(client, headers, [{"product_id": item["id"], "quantity": 1}])
    assert placed.status_code == 201, placed.text
    assert placed.json()["total"]["amount"] == BIG
    assert client.get("/orders", headers=headers).json()["items"][0]["total"]["amount"] == BIG


def test_a_cart_line_beyond_the_range_is_refused(client: TestClient) -> None:
    headers = customer(client)
    item = product(client, admin(client), amount=BIG)
    client.put(f"/cart/items/{item['id']}", json={"quantity": 1}, headers=headers)
    response = client.put(f"/cart/items/{item['id']}", json={"quantity": 2}, headers=headers)
    _problem(response, "amount-out-of-range")
    cart = client.get("/cart", headers=headers).json()
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(item["id"], 1)]
    # Another product whose line is fine on its own, but not with the rest of the cart.
    other = product(client, admin(client), amount=BIG)
    response = client.put(f"/cart/items/{other['id']}", json={"quantity": 1}, headers=headers)
    _problem(response, "amount-out-of-range")
    assert client.get("/cart", headers=headers).json()["total"]["amount"] == BIG


def test_a_cart_whose_price_went_up_is_shown_and_checkout_is_409(
    make_client: AppFactory,
) -> None:
    app, client = make_client()
    boss, headers = admin(client), customer(client)
    item = product(client, boss, stock=5, amount=1000)
    client.put(f"/cart/items/{item['id']}", json={"quantity": 3}, headers=headers)
    raised = client.patch(
        f"/admin/products/{item['id']}",
        json={"price": {"amount": MAX_AMOUNT, "currency": "USD"}},
        headers=boss,
    )
    assert raised.status_code == 200
    cart = client.get("/cart", headers=headers)
    assert cart.status_code == 200
    body = cart.json()
    assert body["total"] is None
    assert body["checkout_problem"] == "amount-out-of-range"
    assert body["items"][0]["line_total"] is None
    assert body["items"][0]["unit_price"]["amount"] == MAX_AMOUNT
    _problem(order(client, headers, None), "amount-out-of-range")
    assert _stock(client, item["id"]) == 5
    assert _charged(app) == 0
    assert client.get("/orders", headers=headers).status_code == 200
    # Lowering the quantity to what the range allows makes it payable again.
    cart = client.put(f"/cart/items/{item['id']}", json={"quantity": 1}, headers=headers)
    assert cart.json()["total"]["amount"] == MAX_AMOUNT
    assert cart.json()["checkout_problem"] is None
