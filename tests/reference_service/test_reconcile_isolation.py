"""One order the sweep cannot settle never keeps it from settling the others."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import update

from reference_service.db import utcnow
from reference_service.observability import PROCESSORS
from reference_service.orders import idempotency
from reference_service.orders import service as orders
from reference_service.orders.models import Order, OrderStatus
from reference_service.orders.reconcile import UNCERTAIN
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-PAY-003")


def _poisoned_pending_order(app: FastAPI, user_id: uuid.UUID, product_id: int) -> uuid.UUID:
    """A worker crashed after the charge, and the row cannot be confirmed: its currency is
    not one the API can show (corruption, or a bug of another version)."""
    runtime = app.state.runtime

    async def run() -> uuid.UUID:
        async with runtime.sessions.begin() as session:
            digest = idempotency.fingerprint({"poisoned": 1})
            await idempotency.claim(session, user_id, "poisoned", digest, ttl_seconds=3600)
            pending = await orders.create_pending(session, user_id, "poisoned", [(product_id, 1)])
        primary = runtime.payments.gateways["primary"].gateway
        await primary.charge(orders.charge_key(pending.id), pending.total_amount, "USD", "tok_visa")
        async with runtime.sessions.begin() as session:
            await session.execute(
                update(Order)
                .where(Order.id == pending.id)
                .values(currency="u$d", created_at=utcnow() - timedelta(hours=1))
            )
        return pending.id

    return asyncio.run(run())


def _lose_the_answer(app: FastAPI, order_id: str) -> None:
    """As if the gateway charged but checkout never heard: failed, charge uncertain."""

    async def run() -> None:
        async with app.state.runtime.sessions.begin() as session:
            await session.execute(
                update(Order)
                .where(Order.id == uuid.UUID(order_id))
                .values(status=OrderStatus.FAILED, payment_status=UNCERTAIN)
            )

    asyncio.run(run())


def test_a_poisoned_order_does_not_stop_another_customers_refund(
    make_client: AppFactory,
) -> None:
    app, client = make_client()
    victim, other = customer(client), customer(client)
    item = product(client, admin(client), stock=5)
    victim_id = uuid.UUID(client.get("/users/me", headers=victim).json()["id"])
    poisoned = _poisoned_pending_order(app, victim_id, item["id"])
    placed = order(client, other, [{"product_id": item["id"], "quantity": 1}]).json()
    _lose_the_answer(app, placed["id"])

    with structlog.testing.capture_logs(processors=PROCESSORS) as logs:
        asyncio.run(app.state.runtime._sweep())  # what the background job runs each pass

    # The other customer's uncertain charge was refunded in the same pass.
    assert len(ledger(app, "primary").refunds) == 1
    assert (
        client.get(f"/orders/{placed['id']}", headers=other).json()["payment"]["status"]
        == "refunded"
    )
    # The poisoned order is logged by id and error type, with no customer data, and counted.
    failures = [e for e in logs if e["event"] == "reconcile_order_failed"]
    assert [(e["sweep_pass"], e["order_id"]) for e in failures] == [("stale", str(poisoned))]
    email = client.get("/users/me", headers=victim).json()["email"]
    assert all(email not in str(e) and "u$d" not in str(e) for e in failures)
    assert 'reconcile_errors_total{pass="stale"} 1.0' in client.get("/metrics").text
