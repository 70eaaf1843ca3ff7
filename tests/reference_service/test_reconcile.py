"""The reconciliation job settles what a crash or an uncertain gateway left behind."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from reference_service.orders import idempotency
from reference_service.orders import service as orders
from reference_service.orders.models import Order, OrderStatus
from reference_service.orders.reconcile import UNCERTAIN, sweep
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-INV-002")


def _crash_after_reserving(app: FastAPI, user_id: uuid.UUID, key: str, product_id: int) -> Order:
    """What a worker killed between reserving stock and charging leaves in the database."""
    runtime = app.state.runtime

    async def run() -> Order:
        async with runtime.sessions.begin() as session:
            digest = idempotency.fingerprint({"crash": key})
            await idempotency.claim(session, user_id, key, digest, ttl_seconds=3600)
            return await orders.create_pending(session, user_id, key, [(product_id, 2)])

    return asyncio.run(run())


def _sweep(app: FastAPI) -> dict[str, int]:
    runtime = app.state.runtime
    return asyncio.run(
        sweep(
            runtime.sessions,
            runtime.payments,
            reservation_ttl_s=0,
            on_stock_change=runtime.catalog.stock_changed,
        )
    )


def _me(client: TestClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(client.get("/users/me", headers=headers).json()["id"])


def test_an_expired_reservation_is_released(make_client: AppFactory) -> None:
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=5)
    pending = _crash_after_reserving(app, _me(client, headers), "crashed", item["id"])
    assert client.get(f"/products/{item['id']}").json()["available"] == 3
    assert _sweep(app)["expired"] == 1
    assert client.get(f"/products/{item['id']}").json()["available"] == 5
    assert client.get(f"/orders/{pending.id}", headers=headers).json()["status"] == "failed"
    # the key is free again: the client's retry goes through
    retry = order(client, headers, [{"product_id": item["id"], "quantity": 2}], key="crashed")
    assert retry.status_code == 201


@pytest.mark.req("REQ-PAY-003")
def test_a_reservation_whose_charge_went_through_is_confirmed(make_client: AppFactory) -> None:
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=5)
    pending = _crash_after_reserving(app, _me(client, headers), "charged-then-crashed", item["id"])
    primary = app.state.runtime.payments.gateways["primary"].gateway
    asyncio.run(
        primary.charge(orders.charge_key(pending.id), pending.total_amount, "USD", "tok_visa")
    )
    assert _sweep(app)["confirmed"] == 1
    assert client.get(f"/orders/{pending.id}", headers=headers).json()["status"] == "confirmed"
    assert client.get(f"/products/{item['id']}").json()["available"] == 3
    assert ledger(app, "primary").captures == 1


@pytest.mark.req("REQ-PAY-003")
def test_an_uncertain_charge_on_a_failed_order_is_refunded(make_client: AppFactory) -> None:
    app, client = make_client()
    boss, headers = admin(client), customer(client)
    placed = order(client, headers, [{"product_id": 8, "quantity": 1}]).json()

    async def lose_the_answer() -> None:  # as if the gateway charged but never said so
        async with app.state.runtime.sessions.begin() as session:
            await session.execute(
                update(Order)
                .where(Order.id == uuid.UUID(placed["id"]))
                .values(status=OrderStatus.FAILED, payment_status=UNCERTAIN)
            )

    asyncio.run(lose_the_answer())
    assert _sweep(app)["refunded"] == 1
    attempts = client.get(f"/admin/orders/{placed['id']}/payments", headers=boss).json()
    assert [(a["kind"], a["status"]) for a in attempts] == [
        ("charge", "succeeded"),
        ("refund", "succeeded"),
    ]
    assert len(ledger(app, "primary").refunds) == 1
    assert _sweep(app)["refunded"] == 0  # settled once


def _fail_uncertain(app: FastAPI, user_id: uuid.UUID, key: str, product_id: int) -> Order:
    """An order the service failed because it could not tell whether the gateway charged it
    (the attempt timed out while the gateway still held the request)."""
    pending = _crash_after_reserving(app, user_id, key, product_id)

    async def run() -> None:
        async with app.state.runtime.sessions.begin() as session:
            await orders.mark_failed(session, pending.id, UNCERTAIN, "primary")

    asyncio.run(run())
    return pending


def _sweep_within(app: FastAPI, settle_s: float) -> dict[str, int]:
    runtime = app.state.runtime
    return asyncio.run(
        sweep(
            runtime.sessions,
            runtime.payments,
            reservation_ttl_s=3600,
            on_stock_change=runtime.catalog.stock_changed,
            uncertain_settle_s=settle_s,
        )
    )


@pytest.mark.req("REQ-PAY-003")
def test_a_charge_that_lands_after_the_sweep_first_looked_is_still_refunded(
    make_client: AppFactory,
) -> None:
    # The gateway held the charge past the service's attempt timeout (its latency comes before
    # it records): the first pass finds nothing, and must not close the order as never charged,
    # or the capture that lands next is kept from the customer for good.
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=5)
    failed = _fail_uncertain(app, _me(client, headers), "held-by-gateway", item["id"])
    assert _sweep_within(app, settle_s=60)["refunded"] == 0  # nothing there yet
    primary = app.state.runtime.payments.gateways["primary"].gateway
    asyncio.run(
        primary.charge(orders.charge_key(failed.id), failed.total_amount, "USD", "tok_visa")
    )
    assert _sweep_within(app, settle_s=60)["refunded"] == 1
    assert len(ledger(app, "primary").refunds) == 1


@pytest.mark.req("REQ-PAY-003")
def test_an_uncertain_order_with_no_charge_is_closed_once_the_charge_cannot_land(
    make_client: AppFactory,
) -> None:
    app, client = make_client()
    headers = customer(client)
    item = product(client, admin(client), stock=5)
    failed = _fail_uncertain(app, _me(client, headers), "never-charged", item["id"])
    _sweep_within(app, settle_s=60)
    assert _payment_status(app, failed.id) == UNCERTAIN  # still asked about on every pass
    _sweep_within(app, settle_s=0)  # past the horizon: closed as never charged
    assert _payment_status(app, failed.id) == "not_charged"
    assert ledger(app, "primary").refunds == {}


def _payment_status(app: FastAPI, order_id: uuid.UUID) -> str:
    async def run() -> str:
        async with app.state.runtime.sessions() as session:
            return str((await orders.get(session, order_id)).payment_status)

    return asyncio.run(run())
