"""Checkout and the reconciliation sweep both settle pending orders; only the first one counts.

A worker that stalls between reserving and confirming (longer than the reservation TTL) lets
the sweep settle its order first: failed with the stock released when the gateway had no
charge yet, or confirmed when it had. The checkout that then resumes must not overwrite the
sweep's outcome: confirming a failed order would sell stock that was already given back, and
confirming twice would record the capture and the order's events twice. Nor may its clean-up
take back the Idempotency-Key from a retry that claimed it after the sweep released it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from reference_service.events.models import OutboxEvent
from reference_service.inventory.models import StockLevel
from reference_service.orders import idempotency
from reference_service.orders.models import IdempotencyRecord, Order, OrderStatus
from reference_service.orders.reconcile import sweep
from reference_service.orders.schemas import OrderCreate
from reference_service.payments.models import PaymentAttempt
from reference_service.payments.service import ChargeOutcome, PaymentUnavailableError
from reference_service.runtime import Runtime, build_runtime
from reference_service.settings import Settings
from reference_service.users.models import User

pytestmark = pytest.mark.req("REQ-INV-002", "REQ-PAY-003")
PRODUCT = 1
Charge = Callable[[str, int, str, str], Awaitable[ChargeOutcome]]
Stall = Callable[[Runtime, Charge, uuid.UUID, str], Charge]  # wraps the charge of (user, key)


@dataclass
class Outcome:
    """What the database holds for the order afterwards."""

    status: str
    payment_status: str
    stock_change: int
    attempts: list[tuple[str, str]]  # (kind, status)
    created_events: int
    key_state: str | None


async def _nothing(_: list[int]) -> None:
    return None


async def _sweep(runtime: Runtime) -> dict[str, int]:
    # A TTL in the past: every pending order counts as stale, as after a long stall.
    return await sweep(
        runtime.sessions, runtime.payments, reservation_ttl_s=-1, on_stock_change=_nothing
    )


async def _stock(runtime: Runtime) -> int:
    async with runtime.read_sessions() as session:
        level = await session.get(StockLevel, PRODUCT)
        assert level is not None
        return level.stock


async def _outcome(runtime: Runtime, user_id: uuid.UUID, key: str, before: int) -> Outcome:
    stock = await _stock(runtime)
    async with runtime.read_sessions() as session:
        order = (
            await session.scalars(
                select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
            )
        ).one()
        attempts = await session.scalars(
            select(PaymentAttempt).where(PaymentAttempt.order_id == order.id)
        )
        created = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.aggregate_id == str(order.id), OutboxEvent.type == "orders.created"
            )
        )
        record = await session.get(IdempotencyRecord, (user_id, key))
        return Outcome(
            order.status,
            order.payment_status,
            stock - before,
            sorted((a.kind, a.status) for a in attempts),
            len(list(created)),
            record.state if record is not None else None,
        )


@dataclass
class Race:
    """How checkout answered, what it left, and what the next sweep pass then did."""

    status: int
    detail: str | None
    outcome: Outcome
    next_pass: dict[str, int]
    after_next_pass: Outcome


def _race(settings: Settings, stall: Stall) -> Race:
    """Check out one unit with the gateway call wrapped by `stall`, then sweep once more
    (same runtime: the embedded gateway's ledger lives in it)."""
    runtime = build_runtime(settings)
    key = f"race-{uuid.uuid4().hex}"

    async def scenario() -> Race:
        try:
            async with runtime.read_sessions() as session:
                user = (await session.scalars(select(User).limit(1))).one()
            before = await _stock(runtime)
            stalled = stall(runtime, runtime.payments.charge, user.id, key)
            runtime.payments.charge = stalled  # type: ignore[method-assign]
            request = OrderCreate.model_validate(
                {
                    "items": [{"product_id": PRODUCT, "quantity": 1}],
                    "payment": {"token": "tok_visa"},
                }
            )
            answer: tuple[int, str | None]
            try:
                answer = (await runtime.checkout.place(user.id, key, request)).status_code, None
            except PaymentUnavailableError as exc:
                answer = exc.http_status, exc.detail
            outcome = await _outcome(runtime, user.id, key, before)
            next_pass = await _sweep(runtime)
            after = await _outcome(runtime, user.id, key, before)
            return Race(*answer, outcome, next_pass, after)
        finally:
            await runtime.aclose()

    return asyncio.run(scenario())


def test_a_charge_landing_on_an_order_the_sweep_failed_is_refunded_not_confirmed(
    settings: Settings,
) -> None:
    def sweep_first(runtime: Runtime, charge: Charge, *_: object) -> Charge:
        async def stalled(key: str, amount: int, currency: str, token: str) -> ChargeOutcome:
            await _sweep(runtime)  # no charge at the gateway yet: the sweep fails the order
            return await charge(key, amount, currency, token)

        return stalled

    race = _race(settings, sweep_first)
    assert race.status == 503  # not a 201 for an order whose stock went back
    assert race.detail is not None
    assert "refunded" in race.detail
    assert race.outcome.status == OrderStatus.FAILED
    assert race.outcome.payment_status == "uncertain"  # for the sweep's refund pass
    assert race.outcome.stock_change == 0  # released once, by the sweep
    assert race.outcome.attempts == [("charge", "succeeded")]
    assert race.outcome.created_events == 0
    assert race.next_pass["refunded"] == 1
    assert race.after_next_pass.payment_status == "refunded"
    assert race.after_next_pass.attempts == [("charge", "succeeded"), ("refund", "succeeded")]
    assert race.after_next_pass.stock_change == 0


def test_an_order_the_sweep_confirmed_first_is_answered_once_and_recorded_once(
    settings: Settings,
) -> None:
    def charge_then_sweep(runtime: Runtime, charge: Charge, *_: object) -> Charge:
        async def stalled(key: str, amount: int, currency: str, token: str) -> ChargeOutcome:
            outcome = await charge(key, amount, currency, token)
            await _sweep(runtime)  # the charge is at the gateway: the sweep confirms the order
            return outcome

        return stalled

    race = _race(settings, charge_then_sweep)
    assert race.status == 201
    assert race.outcome.status == OrderStatus.CONFIRMED
    assert race.outcome.stock_change == -1
    assert race.outcome.attempts == [("charge", "succeeded")]  # the sweep's, not a second one
    assert race.outcome.created_events == 1
    assert race.outcome.key_state == "completed"
    assert race.next_pass["confirmed"] == race.next_pass["refunded"] == 0
    assert race.after_next_pass == race.outcome


def test_a_stalled_checkout_leaves_a_retrys_claim_on_its_key_alone(settings: Settings) -> None:
    def sweep_then_retry(runtime: Runtime, charge: Charge, user_id: uuid.UUID, key: str) -> Charge:
        async def stalled(key_: str, amount: int, currency: str, token: str) -> ChargeOutcome:
            await _sweep(runtime)  # fails the order and gives its Idempotency-Key back
            async with runtime.sessions.begin() as session:  # the client's retry claims it
                await idempotency.claim(session, user_id, key, "retry", ttl_seconds=3600)
            return await charge(key_, amount, currency, token)

        return stalled

    race = _race(settings, sweep_then_retry)
    assert race.status == 503
    assert race.outcome.key_state == "in_flight"  # the retry's claim, still there
