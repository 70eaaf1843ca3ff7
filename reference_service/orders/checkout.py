"""Checkout and cancellation: short transactions around the gateway call, never across it.

1. claim the Idempotency-Key, reserve stock and record a pending order, in one transaction
   (a concurrent duplicate waits on the key, then sees it in flight; any refusal rolls the
   claim back with everything else);
2. charge the gateway (charge key derived from the order, so retries never double-charge);
3. confirm, or fail and release; store the response for replays. Both only move the order
   out of pending: if the reconciliation sweep settled it first, its outcome stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service.cart import service as cart
from reference_service.db import utcnow
from reference_service.errors import DomainError
from reference_service.metrics import Metrics
from reference_service.orders import idempotency, refunds
from reference_service.orders import service as orders
from reference_service.orders.idempotency import StoredResponse
from reference_service.orders.models import Order, OrderStatus
from reference_service.orders.reconcile import UNCERTAIN
from reference_service.orders.schemas import OrderCreate, OrderRead
from reference_service.payments.gateway import GatewayResult
from reference_service.payments.resilience import BREAKER_STATES
from reference_service.payments.service import (
    PaymentProcessor,
    PaymentUnavailableError,
    RefundUncertainError,
)

REFUNDING = (
    "The order's reservation expired while the payment was taken; the charge will be "
    "refunded and nothing is held. Retry later."
)
StockChanged = Callable[[list[int]], Awaitable[None]]
SessionHook = Callable[[AsyncSession], Awaitable[None]]


async def _nothing(_: object) -> None:
    return None


class Checkout:
    """Places and cancels orders; owns the transactions of these flows."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        payments: PaymentProcessor,
        metrics: Metrics,
        *,
        idempotency_ttl_s: int,
        lock_rows: Callable[[], Awaitable[bool]],
        on_stock_change: StockChanged = _nothing,
        before_reserve: SessionHook = _nothing,
    ) -> None:
        self.sessions = sessions
        self.payments = payments
        self.metrics = metrics
        self.idempotency_ttl_s = idempotency_ttl_s
        self.lock_rows = lock_rows
        self.on_stock_change = on_stock_change
        self.before_reserve = before_reserve

    async def place(self, user_id: uuid.UUID, key: str, request: OrderCreate) -> StoredResponse:
        """Create an order exactly once per (user, key)."""
        digest = idempotency.fingerprint(request.model_dump(mode="json"))
        claimed_at = utcnow()
        try:
            async with self.sessions.begin() as session:
                replay = await idempotency.claim(
                    session,
                    user_id,
                    key,
                    digest,
                    ttl_seconds=self.idempotency_ttl_s,
                    now=claimed_at,
                )
                if replay is None:
                    order = await self._reserve(session, user_id, key, request)
        except BaseException as exc:
            self._count_failure(exc)
            raise
        if replay is not None:
            self.metrics.orders.labels("replayed").inc()
            return replay
        try:
            return await self._pay(user_id, key, request, order)
        except BaseException as exc:
            # Only this request's claim: if the reconciliation sweep released the key while
            # this request stalled, a retry may hold it now.
            async with self.sessions.begin() as session:
                await idempotency.release(session, user_id, key, claimed_at)
            self._count_failure(exc)
            raise

    def _count_failure(self, exc: BaseException) -> None:
        self.metrics.orders.labels(exc.code if isinstance(exc, DomainError) else "error").inc()

    async def _reserve(
        self, session: AsyncSession, user_id: uuid.UUID, key: str, request: OrderCreate
    ) -> Order:
        await self.before_reserve(session)
        if request.items is not None:
            lines = [(item.product_id, item.quantity) for item in request.items]
        else:
            lines = await cart.lines(session, user_id)
        return await orders.create_pending(
            session, user_id, key, orders.merge_lines(lines), lock_rows=await self.lock_rows()
        )

    async def _pay(
        self, user_id: uuid.UUID, key: str, request: OrderCreate, order: Order
    ) -> StoredResponse:
        product_ids = [line.product_id for line in order.lines]
        await self.on_stock_change(product_ids)
        pay_key = orders.charge_key(order.id)
        outcome = await self.payments.charge(
            pay_key, order.total_amount, order.currency, request.payment.token
        )
        self._export_breakers()
        result = outcome.result
        if result is None:
            reason = UNCERTAIN if outcome.uncertain_at else "unavailable"
            async with self.sessions.begin() as session:
                failed, settled = await orders.mark_failed(
                    session, order.id, reason, outcome.uncertain_at
                )
                if outcome.uncertain_at and not settled and failed.status == OrderStatus.FAILED:
                    # The sweep failed it meanwhile: a charge that did land must still be found.
                    await orders.refund_later(session, failed.id, outcome.uncertain_at, UNCERTAIN)
                await orders.record_attempt(
                    session,
                    failed,
                    kind="charge",
                    status="pending" if outcome.uncertain_at else "error",
                    provider=outcome.uncertain_at or "none",
                    key=pay_key,
                )
            await self.on_stock_change(product_ids)
            self.metrics.payments.labels(outcome.uncertain_at or "none", "charge", reason).inc()
            raise self.payments.unavailable(uncertain=outcome.uncertain_at is not None)
        status = "succeeded" if result.approved else "failed"
        async with self.sessions.begin() as session:
            if result.approved:
                response = await self._confirm(session, user_id, request, order, result, pay_key)
            else:
                response = await self._decline(session, order, result, pay_key)
            if response is not None:
                await idempotency.complete(session, user_id, key, response)
        self.metrics.payments.labels(result.provider, "charge", status).inc()
        if response is None:
            raise PaymentUnavailableError(self.payments.retry_after_s, REFUNDING)
        if not result.approved:
            await self.on_stock_change(product_ids)
        self.metrics.orders.labels("confirmed" if result.approved else "declined").inc()
        return response

    async def _confirm(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        request: OrderCreate,
        order: Order,
        result: GatewayResult,
        pay_key: str,
    ) -> StoredResponse | None:
        """Confirm the charged order. If the reconciliation sweep settled it while the
        gateway answered: confirmed (it found this charge) is answered as usual; failed
        (stock released) leaves the charge to the sweep's refund pass and returns None."""
        if await orders.mark_paid(session, order, result.provider, result.ref):
            if request.items is None:
                await cart.clear_ordered(session, user_id, orders.lines_of(order))
            await _record_answer(session, order, "charge", result, pay_key)
            body = orders.to_read(order).model_dump(mode="json")
            return StoredResponse(201, body, f"/orders/{order.id}")
        settled = await orders.get(session, order.id)
        if settled.status == OrderStatus.CONFIRMED:
            body = orders.to_read(settled).model_dump(mode="json")
            return StoredResponse(201, body, f"/orders/{settled.id}")
        await _record_answer(session, settled, "charge", result, pay_key)
        await orders.refund_later(session, settled.id, result.provider, UNCERTAIN)
        return None

    async def _decline(
        self, session: AsyncSession, order: Order, result: GatewayResult, pay_key: str
    ) -> StoredResponse:
        """Fail the declined order and release its stock; the 402 to answer."""
        failed, _ = await orders.mark_failed(session, order.id, "declined", result.provider)
        await _record_answer(session, failed, "charge", result, pay_key)
        return StoredResponse(402, _declined_problem(failed.id, result.code))

    def _export_breakers(self) -> None:
        # Set where the breaker changes, not only when /metrics is scraped: under gunicorn a
        # scrape reaches one worker, and the gauge must show every worker's breaker.
        for gateway in self.payments.order:
            self.metrics.breaker.labels(gateway.name).set(BREAKER_STATES.get(gateway.state, 0))

    async def cancel(self, user_id: uuid.UUID, order_id: uuid.UUID) -> OrderRead:
        """Refund, then cancel and restock, exactly once (see `refunds`): a declined refund
        leaves the order confirmed (409); one that may have been made is settled by the
        reconciliation sweep (503 saying so)."""
        async with self.sessions.begin() as session:
            order = await orders.get_own(session, user_id, order_id)
            orders.ensure_cancellable(order)
        if order.charge_ref is None or order.payment_provider is None:
            raise DomainError("not-cancellable", 409, "The order has no capture to refund.")
        marked_here = await refunds.begin(self.sessions, order)
        try:
            cancelled, result, here = await refunds.refund_then_cancel(
                self.sessions, self.payments, order, marked_here=marked_here
            )
        except refunds.RefundDeclinedError:
            self.metrics.payments.labels(order.payment_provider, "refund", "failed").inc()
            raise
        except PaymentUnavailableError as exc:
            reason = "uncertain" if isinstance(exc, RefundUncertainError) else "unavailable"
            self.metrics.payments.labels(order.payment_provider, "refund", reason).inc()
            raise
        finally:
            self._export_breakers()
        if here:
            await self.on_stock_change([line.product_id for line in cancelled.lines])
            self.metrics.payments.labels(result.provider, "refund", "succeeded").inc()
            self.metrics.orders.labels("cancelled").inc()
        return orders.to_read(cancelled)


async def _record_answer(
    session: AsyncSession, order: Order, kind: str, result: GatewayResult, key: str
) -> None:
    """A gateway's answer to the order's charge or refund, kept as a payment attempt."""
    await orders.record_attempt(
        session,
        order,
        kind=kind,
        status="succeeded" if result.approved else "failed",
        provider=result.provider,
        key=key,
        ref=result.ref,
        error_code=result.code,
    )


def _declined_problem(order_id: uuid.UUID, code: str | None) -> dict[str, object]:
    return {
        "type": "/problems/payment-declined",
        "title": "Payment declined",
        "status": 402,
        "detail": "The payment was declined; nothing was charged.",
        "order_id": str(order_id),
        "decline_code": code or "declined",
    }
