"""Real concurrency: a checkout rush never oversells; parallel replays make one order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from reference_service.app import create_app
from reference_service.settings import Settings
from tests.builders import asgi_client, async_admin, async_customer


@pytest.mark.req("REQ-INV-001")
def test_fifty_concurrent_checkouts_of_stock_five(settings: Settings) -> None:
    app = create_app(settings)

    async def rush() -> tuple[list[int], int, list[str]]:
        async with asgi_client(app) as http:
            boss = await async_admin(http)
            created = await http.post(
                "/admin/products",
                json={
                    "sku": "HOT-1",
                    "name": "Hot item",
                    "category": "testing",
                    "price": {"amount": 500, "currency": "USD"},
                    "stock": 5,
                },
                headers=boss,
            )
            product_id = created.json()["id"]
            shoppers = await asyncio.gather(*(async_customer(http) for _ in range(50)))
            body = {
                "items": [{"product_id": product_id, "quantity": 1}],
                "payment": {"token": "tok_visa"},
            }
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/orders", json=body, headers={**h, "Idempotency-Key": uuid.uuid4().hex}
                    )
                    for h in shoppers
                )
            )
            stock = (await http.get(f"/products/{product_id}")).json()["available"]
            types = [r.json().get("type", "") for r in responses if r.status_code == 409]
            return [r.status_code for r in responses], stock, types

    statuses, stock, types = asyncio.run(rush())
    assert statuses.count(201) == 5
    assert statuses.count(409) == 45
    assert stock == 0
    assert all(t.endswith("out-of-stock") for t in types)


@pytest.mark.req("REQ-ORD-001", "REQ-PAY-003")
def test_twenty_parallel_replays_make_one_order_and_one_charge(settings: Settings) -> None:
    app = create_app(settings)
    ledger = app.state.runtime.simulators["primary"].state.ledger

    async def replays() -> tuple[list[int], int, set[str]]:
        async with asgi_client(app) as http:
            headers = {**await async_customer(http), "Idempotency-Key": "one-key"}
            body = {"items": [{"product_id": 3, "quantity": 1}], "payment": {"token": "tok_visa"}}
            responses = await asyncio.gather(
                *(http.post("/orders", json=body, headers=headers) for _ in range(20))
            )
            orders = (await http.get("/orders", headers=headers)).json()["items"]
            ids = {r.json()["id"] for r in responses if r.status_code == 201}
            return [r.status_code for r in responses], len(orders), ids

    statuses, order_count, ids = asyncio.run(replays())
    assert order_count == 1
    assert ledger.captures == 1
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    assert len(ids) == 1


@pytest.mark.req("REQ-ORD-001")
def test_replays_waiting_on_a_key_never_starve_the_flag_refresh(settings: Settings) -> None:
    # Checkout reads flags while it holds the Idempotency-Key, and replays of that key wait on
    # it holding pool connections. Every flag read refreshes here (0 s) on the smallest pool:
    # if the refresh queued for the request pool, the replays would hold it until their
    # statement timeout and come back 503.
    tight = {"flag_refresh_s": 0, "db_pool_size": 1, "db_statement_timeout_ms": 2000}
    app = create_app(settings.model_copy(update=tight))

    async def replays() -> list[int]:
        async with asgi_client(app) as http:
            headers = {**await async_customer(http), "Idempotency-Key": "starve-key"}
            body = {"items": [{"product_id": 3, "quantity": 1}], "payment": {"token": "tok_visa"}}
            responses = await asyncio.gather(
                *(http.post("/orders", json=body, headers=headers) for _ in range(8))
            )
            return [r.status_code for r in responses]

    statuses = asyncio.run(replays())
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
