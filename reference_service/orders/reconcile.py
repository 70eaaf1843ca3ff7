"""The reconciliation job: settle what a crash or an uncertain gateway left behind.

- pending orders older than the reservation TTL: confirmed if the gateway has the charge,
  otherwise failed with their stock released; their idempotency key settled either way;
- failed orders whose charge was uncertain: a capture found at the gateway is refunded
  (compensation), so no failed order keeps a customer's money; a refund the gateway
  declines is never recorded as made: the order is marked `refund_declined` for a person;
- confirmed orders left `refund_pending` by a cancellation whose refund may have been made:
  the refund is asked again with the same key, then the order cancelled and restocked once;
- expired idempotency records are purged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service.db import utcnow
from reference_service.errors import DomainError
from reference_service.metrics import Metrics
from reference_service.orders import idempotency, refunds
from reference_service.orders import service as orders
from reference_service.orders.idempotency import StoredResponse
from reference_service.orders.models import IdempotencyRecord, Order, OrderStatus
from reference_service.orders.service import charge_key
from reference_service.payments.gateway import GatewayError, GatewayResult
from reference_service.payments.service import PaymentProcessor

log = structlog.get_logger("reference_service.reconcile")

UNCERTAIN = "uncertain"
REFUND_DECLINED = "refund_declined"  # a failed order whose capture a person must refund


async def _lookup(payments: PaymentProcessor, order: Order) -> GatewayResult | None:
    """The order's charge at any gateway; GatewayError if one cannot say."""
    providers = [order.payment_provider] if order.payment_provider else list(payments.gateways)
    for provider in providers:
        if provider in payments.gateways:
            found = await payments.find_charge(provider, charge_key(order.id))
            if found is not None and found.approved:
                return found
    return None


_Settle = Callable[
    [
        async_sessionmaker[AsyncSession],
        PaymentProcessor,
        Order,
        Callable[[list[int]], Awaitable[None]],
    ],
    Awaitable[str | None],
]
_DATABASE_DOWN = (OperationalError, InterfaceError, SqlTimeoutError)


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentProcessor,
    *,
    reservation_ttl_s: int,
    on_stock_change: Callable[[list[int]], Awaitable[None]],
    metrics: Metrics | None = None,
    uncertain_settle_s: float = 60.0,
) -> dict[str, int]:
    """One pass of the job; returns what it did.

    Each order is settled on its own: one that cannot be (an unexpected error) is logged and
    counted in `reconcile_errors_total`, and the pass goes on with the others, so one bad row
    never keeps other customers' charges from being settled or refunded.
    """
    done = {"confirmed": 0, "expired": 0, "refunded": 0, "cancelled": 0, "purged": 0, "errors": 0}
    cutoff = utcnow() - timedelta(seconds=reservation_ttl_s)
    async with sessions() as session:
        stale = list(
            await session.scalars(
                select(Order)
                .where(Order.status == OrderStatus.PENDING_PAYMENT, Order.created_at < cutoff)
                .limit(100)
            )
        )
        uncertain = list(
            await session.scalars(
                select(Order)
                .where(Order.status == OrderStatus.FAILED, Order.payment_status == UNCERTAIN)
                .limit(100)
            )
        )
        cancelling = await refunds.pending(session)
    passes: list[tuple[str, list[Order], _Settle]] = [
        ("stale", stale, _settle_stale),
        ("uncertain", uncertain, partial(_refund_uncertain, settle_after_s=uncertain_settle_s)),
        ("refund_pending", cancelling, refunds.settle_pending),
    ]
    for name, found, settle in passes:
        for order in found:
            try:
                outcome = await settle(sessions, payments, order, on_stock_change)
            except _DATABASE_DOWN:
                raise  # not this order's fault: the pass ends, the next one retries
            except Exception as exc:  # noqa: BLE001 - one order's boundary: the rest go on
                done["errors"] += 1
                if metrics is not None:
                    metrics.reconcile_errors.labels(name).inc()
                # The order id and the error's type only: no amounts, names or messages.
                log.error(
                    "reconcile_order_failed",
                    sweep_pass=name,
                    order_id=str(order.id),
                    error=type(exc).__name__,
                )
                continue
            if outcome is not None:
                done[outcome] += 1
    async with sessions.begin() as session:
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < utcnow())
        )
        done["purged"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if any(done.values()):
        log.info("reconciled", **done)
    return done


async def _settle_stale(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentProcessor,
    order: Order,
    on_stock_change: Callable[[list[int]], Awaitable[None]],
) -> str | None:
    """A pending order past its reservation: confirmed if charged, else failed and released."""
    try:
        found = await _lookup(payments, order)
    except GatewayError:
        return None  # cannot tell yet; the next pass asks again
    async with sessions.begin() as session:
        if found is not None:
            current = await orders.get(session, order.id)
            if not await orders.mark_paid(session, current, found.provider, found.ref):
                return None  # checkout confirmed it meanwhile
            await orders.record_attempt(
                session,
                current,
                kind="charge",
                status="succeeded",
                provider=found.provider,
                key=charge_key(order.id),
                ref=found.ref,
            )
            response = StoredResponse(
                201, orders.to_read(current).model_dump(mode="json"), f"/orders/{current.id}"
            )
            await idempotency.complete(session, current.user_id, current.idempotency_key, response)
            outcome = "confirmed"
        else:
            _, settled = await orders.mark_failed(session, order.id, "expired")
            if not settled:
                return None  # checkout settled it meanwhile
            await idempotency.release(session, order.user_id, order.idempotency_key)
            outcome = "expired"
    await on_stock_change([line.product_id for line in order.lines])
    return outcome


async def _refund_uncertain(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentProcessor,
    order: Order,
    _: Callable[[list[int]], Awaitable[None]],
    *,
    settle_after_s: float,
) -> str | None:
    """A failed order whose charge was uncertain: refund a capture the gateway has.

    No charge at the gateway is not proof of none for a while: a gateway can still hold the
    request the service gave up on (stalled before it records, say) and record the charge
    later. Until `settle_after_s` after the order failed, the pass only asks again; after,
    the order is closed as never charged.

    A declined refund is recorded as such, the order marked `refund_declined` (the pass
    no longer retries it; a person must), and RefundDeclinedError raised for the sweep to
    log and count: a refund that did not happen is never claimed.
    """
    key = orders.refund_key(order.id)
    try:
        found = await _lookup(payments, order)
        refund = None
        if found is not None and found.ref is not None:
            refund = await payments.refund(key, found.provider, found.ref, order.total_amount)
    except (GatewayError, DomainError):
        return None  # the gateway cannot say yet: the next pass asks again, same keys
    if found is not None and refund is not None and not refund.approved:
        async with sessions.begin() as session:
            await orders.refund_later(session, order.id, found.provider, REFUND_DECLINED)
            failed = await orders.get(session, order.id)
            await orders.record_attempt(
                session,
                failed,
                kind="refund",
                status="failed",
                provider=found.provider,
                key=key,
                ref=refund.ref,
                error_code=refund.code,
            )
        log.error("refund_declined", order_id=str(order.id), gateway=found.provider)
        raise refunds.RefundDeclinedError(order.id, refund.code)
    if found is None and utcnow() - order.updated_at < timedelta(seconds=settle_after_s):
        return None  # the charge may still land: the next pass asks again
    async with sessions.begin() as session:
        failed = await orders.settle_uncertain(session, order.id, refunded=found is not None)
        if found is None:
            return None
        await orders.record_attempt(
            session,
            failed,
            kind="refund",
            status="succeeded",
            provider=found.provider,
            key=key,
            ref=refund.ref if refund is not None else found.ref,
        )
    return "refunded"
