"""Cancelling a confirmed order: its refund is never lost, never claimed when not made.

Before the gateway is asked, the order (still confirmed) is marked `refund_pending`, so
whatever becomes of the answer (lost in a timeout, a crashed worker) the reconciliation
sweep finds the order and asks again with the same refund key; the gateway replays its first
answer for a key, so the refund is made at most once, and the order is cancelled and
restocked exactly once (a compare-and-set on confirmed). What the gateway says decides:

- approved: cancelled, stock back;
- declined: nothing refunded; the order stays confirmed (`captured`): 409 refund-declined;
- surely not processed (503, breaker open): nothing changed; 503, retry;
- may have been processed: the order stays `refund_pending`; 503 saying the cancellation is
  being settled, which the sweep completes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service.db import utcnow
from reference_service.errors import ConflictError, DomainError
from reference_service.orders import service as orders
from reference_service.orders.models import Order, OrderStatus
from reference_service.payments.gateway import GatewayResult
from reference_service.payments.service import (
    PaymentProcessor,
    PaymentUnavailableError,
    RefundUncertainError,
)

log = structlog.get_logger("reference_service.refunds")

CAPTURED = "captured"
REFUND_PENDING = "refund_pending"


class RefundDeclinedError(DomainError):
    """The gateway answered the refund with a no: nothing was refunded, the order stands."""

    def __init__(self, order_id: uuid.UUID, code: str | None) -> None:
        super().__init__(
            "refund-declined",
            409,
            "The payment gateway declined the refund: nothing was refunded and the order is "
            "still confirmed.",
            title="Refund declined",
            extra={"order_id": str(order_id), "decline_code": code or "declined"},
        )


async def _set_payment_status(
    session: AsyncSession, order_id: uuid.UUID, to: str, *, was: tuple[str, ...]
) -> bool:
    """Compare-and-set on a confirmed order's payment status; whether it changed."""
    statement = (
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.CONFIRMED,
            Order.payment_status.in_(was),
        )
        .values(payment_status=to, updated_at=utcnow())
    )
    result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def begin(sessions: async_sessionmaker[AsyncSession], order: Order) -> bool:
    """Mark a confirmed order `refund_pending` before its refund is asked for.

    True when this call marked it (so it may put it back if the refund surely was not
    made); False when it already was (a retry, or the sweep, of an unsettled cancellation).
    ConflictError when the order is no longer cancellable.
    """
    async with sessions.begin() as session:
        if await _set_payment_status(session, order.id, REFUND_PENDING, was=(CAPTURED,)):
            return True
        current = await orders.get(session, order.id)
    orders.ensure_cancellable(current)
    if current.payment_status != REFUND_PENDING:
        detail = f"An order whose payment is {current.payment_status} cannot be cancelled."
        raise ConflictError("not-cancellable", detail)
    return False


async def refund_then_cancel(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentProcessor,
    order: Order,
    *,
    marked_here: bool,
) -> tuple[Order, GatewayResult, bool]:
    """Refund a `refund_pending` order with its one refund key, then cancel and restock it:
    the order, the gateway's answer, and whether this call cancelled it (False: another
    request or the sweep did, with the same refund).

    Raises RefundDeclinedError (back to `captured`), RefundUncertainError (left pending for
    the sweep) or PaymentUnavailableError (surely not processed: back to `captured` when
    `marked_here`, otherwise an earlier attempt is still being settled).
    """
    if order.charge_ref is None or order.payment_provider is None:
        raise DomainError("not-cancellable", 409, "The order has no capture to refund.")
    key = orders.refund_key(order.id)
    try:
        result = await payments.refund(
            key, order.payment_provider, order.charge_ref, order.total_amount
        )
    except RefundUncertainError:
        async with sessions.begin() as session:  # pending again, if a clean refusal undid it
            await _set_payment_status(session, order.id, REFUND_PENDING, was=(CAPTURED,))
        raise
    except PaymentUnavailableError:
        if not marked_here:
            raise RefundUncertainError(payments.retry_after_s) from None
        async with sessions.begin() as session:
            await _set_payment_status(session, order.id, CAPTURED, was=(REFUND_PENDING,))
        raise
    if not result.approved:
        async with sessions.begin() as session:
            await _set_payment_status(session, order.id, CAPTURED, was=(REFUND_PENDING,))
            await _record(session, order, result, key)
        log.warning("refund_declined", order_id=str(order.id), gateway=result.provider)
        raise RefundDeclinedError(order.id, result.code)
    try:
        async with sessions.begin() as session:
            cancelled = await orders.mark_cancelled(session, order.id)
            await _record(session, cancelled, result, key)
    except ConflictError:
        # Cancelled meanwhile by another request or the sweep, with this same refund.
        async with sessions() as session:
            current = await orders.get(session, order.id)
        if current.status != OrderStatus.CANCELLED:
            raise
        return current, result, False
    return cancelled, result, True


async def _record(session: AsyncSession, order: Order, result: GatewayResult, key: str) -> None:
    await orders.record_attempt(
        session,
        order,
        kind="refund",
        status="succeeded" if result.approved else "failed",
        provider=result.provider,
        key=key,
        ref=result.ref,
        error_code=result.code,
    )


async def pending(session: AsyncSession, limit: int = 100) -> list[Order]:
    """Confirmed orders whose refund is not settled yet (the sweep's cancellation pass)."""
    rows = await session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.CONFIRMED, Order.payment_status == REFUND_PENDING)
        .order_by(Order.updated_at)
        .limit(limit)
    )
    return list(rows)


async def settle_pending(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentProcessor,
    order: Order,
    on_stock_change: Callable[[list[int]], Awaitable[None]],
) -> str | None:
    """The sweep's pass: complete a cancellation whose refund was left unsettled.

    "cancelled" once the gateway confirms the refund; None when it still cannot say (the
    next pass asks again). A declined refund puts the order back to `captured` and raises
    RefundDeclinedError, so the sweep logs and counts it.
    """
    try:
        cancelled, _, here = await refund_then_cancel(sessions, payments, order, marked_here=False)
    except (PaymentUnavailableError, ConflictError):
        return None  # the gateway cannot say yet, or the order was settled meanwhile
    if not here:
        return None
    await on_stock_change([line.product_id for line in cancelled.lines])
    return "cancelled"
