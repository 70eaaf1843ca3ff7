"""GET /admin/orders: every customer's orders, oldest first, with their gateway keys."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-ADM-002")


def _all_pages(client: TestClient, boss: dict[str, str], limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    for _ in range(20):  # bounded: more pages than any test makes
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/admin/orders", params=params, headers=boss)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("pagination did not end")


def test_pages_of_every_customers_orders_oldest_first(make_client: AppFactory) -> None:
    app, client = make_client()
    boss, alice, bob = admin(client), customer(client), customer(client)
    item = product(client, boss, stock=20, amount=1250)
    line = [{"product_id": item["id"], "quantity": 2}]
    placed = [order(client, who, line).json() for who in (alice, bob, alice)]
    declined = order(client, bob, line, token="tok_decline")
    assert declined.status_code == 402
    cancelled = client.post(f"/orders/{placed[0]['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200

    pages = _all_pages(client, boss, limit=2)
    assert [len(page) for page in pages] == [2, 2]
    seen = [row for page in pages for row in page]
    assert [row["id"] for row in seen] == [*(p["id"] for p in placed), declined.json()["order_id"]]
    assert [row["status"] for row in seen] == ["cancelled", "confirmed", "confirmed", "failed"]
    assert len({row["user_id"] for row in seen}) == 2
    assert all(row["total"] == {"amount": 2500, "currency": "USD"} for row in seen)
    assert seen == sorted(seen, key=lambda row: (row["created_at"], row["id"]))
    # The keys are the ones the gateway knows the charges and the refund by.
    charges = ledger(app, "primary").charges
    assert {row["charge_key"] for row in seen} == set(charges)
    assert [row["refund_key"] for row in seen if row["status"] == "cancelled"] == list(
        ledger(app, "primary").refunds
    )
    confirmed = seen[1]
    assert confirmed["charge_ref"] == charges[confirmed["charge_key"]].body["id"]
    assert confirmed["payment_provider"] == "primary"
    assert set(confirmed) == {
        "id", "user_id", "status", "total", "payment_status", "payment_provider", "charge_ref",
        "charge_key", "refund_key", "created_at", "updated_at",
    }  # fmt: skip
    # One page holds them all; an empty store has no next page.
    assert _all_pages(client, boss, limit=200) == [seen]


def test_admins_only(client: TestClient) -> None:
    assert client.get("/admin/orders").status_code == 401
    forbidden = client.get("/admin/orders", headers=customer(client))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"cursor": "cDox"}],
)
def test_bad_limits_and_cursors_are_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/admin/orders", params=params, headers=admin(client))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_made_up_cursor_of_the_documented_form_is_a_position(client: TestClient) -> None:
    """Any cursor the contract's pattern allows decodes: before every order, or after them all."""
    boss = admin(client)
    headers = customer(client)
    assert order(client, headers, [{"product_id": 1, "quantity": 1}]).status_code == 201
    everything = client.get("/admin/orders", headers=boss).json()["items"]
    assert everything
    before_all = client.get("/admin/orders", params={"cursor": "0-" + "0" * 32}, headers=boss)
    assert before_all.status_code == 200, before_all.text
    assert before_all.json()["items"] == everything
    after_all = client.get(
        "/admin/orders", params={"cursor": "9" * 16 + "-" + "f" * 32}, headers=boss
    )
    assert after_all.status_code == 200, after_all.text
    assert after_all.json()["items"] == []
