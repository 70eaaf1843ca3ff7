"""Idempotency-Key rules (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from reference_service.app import create_app
from reference_service.payments.simulator import Faults
from reference_service.settings import Settings
from tests.builders import (
    admin,
    asgi_client,
    async_customer,
    customer,
    order,
    product,
)

pytestmark = pytest.mark.req("REQ-ORD-001")

ITEMS = [{"product_id": 7, "quantity": 1}]


@pytest.mark.parametrize("key", [None, "", "x" * 256, "has space", "tab\there", "del\x7f"])
def test_missing_or_invalid_key_is_400(client: TestClient, key: str | None) -> None:
    headers = customer(client)
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    body = {"items": ITEMS, "payment": {"token": "tok_visa"}}
    response = client.post("/orders", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["type"].endswith("invalid-idempotency-key")


def test_replay_returns_the_stored_response_and_does_nothing_twice(client: TestClient) -> None:
    boss, headers = admin(client), customer(client)
    item = product(client, boss, stock=5)
    items = [{"product_id": item["id"], "quantity": 2}]
    first = order(client, headers, items, key="replay-1")
    second = order(client, headers, items, key="replay-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Location"] == first.headers["Location"]
    assert len(client.get("/orders", headers=headers).json()["items"]) == 1
    assert client.get(f"/products/{item['id']}").json()["available"] == 3
    attempts = client.get(f"/admin/orders/{first.json()['id']}/payments", headers=boss).json()
    assert len(attempts) == 1


def test_same_key_different_body_is_409(client: TestClient) -> None:
    headers = customer(client)
    assert order(client, headers, ITEMS, key="k-body").status_code == 201
    other = order(client, headers, [{"product_id": 7, "quantity": 2}], key="k-body")
    assert other.status_code == 409
    assert other.json()["type"].endswith("idempotency-key-reused")


def test_keys_are_scoped_per_user(client: TestClient) -> None:
    alice, bob = customer(client), customer(client)
    a = order(client, alice, ITEMS, key="shared-key")
    b = order(client, bob, ITEMS, key="shared-key")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_failed_validation_is_not_stored(client: TestClient) -> None:
    headers = {**customer(client), "Idempotency-Key": "validate-first"}
    bad = client.post(
        "/orders", json={"items": ITEMS, "payment": {"token": "cash"}}, headers=headers
    )
    assert bad.status_code == 422
    good = client.post(
        "/orders", json={"items": ITEMS, "payment": {"token": "tok_visa"}}, headers=headers
    )
    assert good.status_code == 201


def test_out_of_stock_releases_the_key_for_a_retry(client: TestClient) -> None:
    boss, headers = admin(client), customer(client)
    item = product(client, boss, stock=0)
    items = [{"product_id": item["id"], "quantity": 1}]
    assert order(client, headers, items, key="restock").status_code == 409
    client.put(f"/admin/inventory/{item['id']}", json={"stock": 1}, headers=boss)
    assert order(client, headers, items, key="restock").status_code == 201


def test_declines_are_replayed_too(client: TestClient) -> None:
    headers = customer(client)
    first = order(client, headers, ITEMS, token="tok_decline", key="decline-1")
    second = order(client, headers, ITEMS, token="tok_decline", key="decline-1")
    assert first.status_code == second.status_code == 402
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_a_duplicate_while_the_first_is_in_flight_is_409(settings: Settings) -> None:
    app = create_app(settings)
    body = {"items": ITEMS, "payment": {"token": "tok_visa"}}
    ledger = app.state.runtime.simulators["primary"].state.ledger
    ledger.faults = Faults(latency_ms=600)  # holds the first request at the gateway (< timeout)

    async def race() -> tuple[int, int, httpx.Response]:
        async with asgi_client(app) as http:
            headers = {**await async_customer(http), "Idempotency-Key": "in-flight"}
            first = asyncio.create_task(http.post("/orders", json=body, headers=headers))
            while ledger.requests == 0:  # noqa: ASYNC110 - polls the gateway ledger, a plain counter
                await asyncio.sleep(0.005)
            second = await http.post("/orders", json=body, headers=headers)
            first_status = (await first).status_code
            replay = await http.post("/orders", json=body, headers=headers)
            return first_status, second.status_code, replay

    first_status, second_status, replay = asyncio.run(race())
    assert (first_status, second_status) == (201, 409)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
