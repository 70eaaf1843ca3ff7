"""Regression (chaos experiment 02): an order the sweep confirms records its capture.

A checkout charged at the gateway, then lost the database before it could confirm; the
reconciliation sweep found the charge and confirmed the order, but wrote no payment attempt,
so the order was confirmed without a recorded capture (the admin payments view showed none).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from reference_service.orders import service as orders
from reference_service.orders.models import Order, OrderStatus
from reference_service.orders.reconcile import sweep
from reference_service.payments.models import PaymentAttempt
from reference_service.runtime import build_runtime
from reference_service.settings import Settings
from reference_service.users.models import User


async def _nothing(_: list[int]) -> None:
    return None


@pytest.mark.req("REQ-PAY-003")
def test_sweep_records_the_capture_of_an_order_it_confirms(settings: Settings) -> None:
    runtime = build_runtime(settings)

    async def scenario() -> tuple[str, list[PaymentAttempt]]:
        try:
            async with runtime.sessions.begin() as session:
                user = (await session.scalars(select(User).limit(1))).one()
                order = await orders.create_pending(session, user.id, "key-1", [(1, 1)])
            # Charged at the gateway; the database went away before the order was confirmed.
            await runtime.payments.charge(
                orders.charge_key(order.id), order.total_amount, order.currency, "tok_visa"
            )
            await sweep(
                runtime.sessions, runtime.payments, reservation_ttl_s=-1, on_stock_change=_nothing
            )
            async with runtime.sessions() as session:
                status = (await session.get(Order, order.id)).status  # type: ignore[union-attr]
                attempts = list(
                    await session.scalars(
                        select(PaymentAttempt).where(PaymentAttempt.order_id == order.id)
                    )
                )
            return status, attempts
        finally:
            await runtime.aclose()

    status, attempts = asyncio.run(scenario())
    assert status == OrderStatus.CONFIRMED
    captures = [a for a in attempts if a.kind == "charge" and a.status == "succeeded"]
    assert len(captures) == 1
    assert captures[0].provider == "primary"
    assert captures[0].gateway_ref
