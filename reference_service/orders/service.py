"""Order rules inside one transaction each; `checkout.py` strings them around the gateway."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from reference_service.catalog.models import Product
from reference_service.db import row_of, table_of, utcnow
from reference_service.errors import ConflictError, DomainError, NotFoundError
from reference_service.events import service as events
from reference_service.inventory import service as inventory
from reference_service.money import Money, total_of
from reference_service.orders.models import Order, OrderLine, OrderStatus
from reference_service.orders.schemas import OrderLineRead, OrderRead
from reference_service.payments.models import PaymentAttempt
from reference_service.payments.schemas import PaymentSummary
from reference_service.validation import MAX_LINE_QUANTITY

# Checkout's statements, built once on the tables (see `db.table_of`).
_PRODUCTS = table_of(Product)
_ORDERS = table_of(Order)
_LINES = table_of(OrderLine)
_ATTEMPTS = table_of(PaymentAttempt)
_PRICES = select(
    _PRODUCTS.c.id, _PRODUCTS.c.name, _PRODUCTS.c.price_amount, _PRODUCTS.c.price_currency
).where(_PRODUCTS.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ORDER = insert(_ORDERS)
_INSERT_LINES = insert(_LINES)
_INSERT_ATTEMPT = insert(_ATTEMPTS)
# Settling a pending order is a compare-and-set: checkout and the reconciliation sweep may
# both try, and only the first one's outcome holds.
_SETTLE = update(_ORDERS).where(
    _ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == OrderStatus.PENDING_PAYMENT
)
_CONFIRM = _SETTLE.values(
    status=OrderStatus.CONFIRMED,
    payment_status="captured",
    payment_provider=bindparam("provider"),
    charge_ref=bindparam("ref"),
    updated_at=bindparam("now", type_=_ORDERS.c.updated_at.type),
)
_FAIL = _SETTLE.values(
    status=OrderStatus.FAILED,
    payment_status=bindparam("reason"),
    payment_provider=bindparam("provider"),
    updated_at=bindparam("now", type_=_ORDERS.c.updated_at.type),
)
_REFUND_LATER = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == OrderStatus.FAILED)
    .values(payment_status=bindparam("reason"), payment_provider=bindparam("provider"))
)


def charge_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key of an order's one charge."""
    return f"order-{order_id}-charge"


def refund_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key of an order's one refund."""
    return f"order-{order_id}-refund"


def to_read(order: Order) -> OrderRead:
    """An order as its owner sees it."""
    currency = order.currency
    return OrderRead(
        id=order.id,
        status=order.status,
        items=[
            OrderLineRead(
                product_id=line.product_id,
                name=line.name,
                quantity=line.quantity,
                unit_price=Money(amount=line.unit_amount, currency=currency),
                line_total=Money(amount=line.unit_amount * line.quantity, currency=currency),
            )
            for line in order.lines
        ],
        total=Money(amount=order.total_amount, currency=currency),
        payment=PaymentSummary(
            status=order.payment_status,
            amount=Money(amount=order.total_amount, currency=currency),
            provider=order.payment_provider,
        ),
        created_at=order.created_at,
    )


def merge_lines(lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One line per product (quantities added), in product order; 409 when a merged line
    holds more than a line may (MAX_LINE_QUANTITY, as in the cart).

    409, not 422: each line is schema-valid, and no JSON Schema can say that lines of one
    product must add up to at most 99, so the refusal is a business rule (ADR-015).
    """
    merged: dict[int, int] = {}
    for product_id, quantity in lines:
        merged[product_id] = merged.get(product_id, 0) + quantity
    for product_id, quantity in merged.items():
        if quantity > MAX_LINE_QUANTITY:
            raise DomainError(
                "quantity-out-of-range",
                409,
                f"Product {product_id} is ordered {quantity} times; a line holds at most "
                f"{MAX_LINE_QUANTITY} (repeated lines of a product count together).",
                title="Quantity out of range",
                extra={"product_id": product_id, "max_quantity": MAX_LINE_QUANTITY},
            )
    return sorted(merged.items())


async def create_pending(
    session: AsyncSession,
    user_id: uuid.UUID,
    idempotency_key: str,
    lines: list[tuple[int, int]],
    *,
    lock_rows: bool = False,
) -> Order:
    """Price the lines from the catalog, reserve stock, and record a pending order.

    The order is written with plain INSERTs and returned unattached to the session.
    """
    if not lines:
        # 409, not 422: the request is well formed (no `items` means "the cart"); it is the
        # cart's current state that leaves nothing to order, as an out-of-stock line is.
        raise ConflictError("empty-order", "The order has no items and the cart is empty.")
    result = await session.execute(_PRICES, {"ids": [pid for pid, _ in lines]})
    products = {row.id: row for row in result}
    missing = [pid for pid, _ in lines if pid not in products]
    if missing:
        raise NotFoundError(f"Product {missing[0]}")
    currencies = {products[pid].price_currency for pid, _ in lines}
    if len(currencies) > 1:
        # 409: the lines' currencies are the catalog's state, not the request's (ADR-015).
        raise DomainError("mixed-currency", 409, "All items of an order must share a currency.")
    # Before any stock is taken or payment tried: a total the service cannot hold is a 409.
    total = total_of([(products[pid].price_amount, qty) for pid, qty in lines])
    await inventory.reserve(session, lines, lock_rows=lock_rows)
    now = utcnow()
    order_id = uuid.uuid4()
    order = Order(
        id=order_id,
        user_id=user_id,
        idempotency_key=idempotency_key,
        status=OrderStatus.PENDING_PAYMENT,
        total_amount=total,
        currency=currencies.pop(),
        payment_status="pending",
        payment_provider=None,
        charge_ref=None,
        created_at=now,
        updated_at=now,
        lines=[
            OrderLine(
                order_id=order_id,
                product_id=pid,
                name=products[pid].name,
                quantity=qty,
                unit_amount=products[pid].price_amount,
            )
            for pid, qty in lines
        ],
    )
    await session.execute(_INSERT_ORDER, row_of(order, _ORDERS))
    await session.execute(_INSERT_LINES, [row_of(line, _LINES) for line in order.lines])
    await events.append(
        session, ("inventory.reserved", order.id, {"lines": [list(line) for line in lines]})
    )
    return order


def lines_of(order: Order) -> list[tuple[int, int]]:
    """An order's (product_id, quantity) pairs."""
    return [(line.product_id, line.quantity) for line in order.lines]


async def mark_paid(
    session: AsyncSession, order: Order, provider: str, charge_ref: str | None
) -> bool:
    """The charge went through: pending -> confirmed, and `order` (as reserved, not read
    again) updated to match without becoming a change the session would write again.

    False, with nothing written, when the order was no longer pending (the reconciliation
    sweep settled it first).
    """
    now = utcnow()
    params = {"order_id": order.id, "provider": provider, "ref": charge_ref, "now": now}
    result = await session.execute(_CONFIRM, params)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    confirmed = {
        "status": OrderStatus.CONFIRMED,
        "payment_status": "captured",
        "payment_provider": provider,
        "charge_ref": charge_ref,
        "updated_at": now,
    }
    for name, value in confirmed.items():
        set_committed_value(order, name, value)
    await events.append(
        session,
        ("payments.authorized", order.id, {"amount": order.total_amount, "provider": provider}),
        ("orders.created", order.id, {"user_id": str(order.user_id), "total": order.total_amount}),
    )
    return True


async def mark_failed(
    session: AsyncSession, order_id: uuid.UUID, reason: str, provider: str | None = None
) -> tuple[Order, bool]:
    """The charge did not go through (or may not have): pending -> failed, stock released.

    Returns the order as it now is, and whether this call failed it (False: it was no
    longer pending, and nothing was changed).
    """
    params = {"order_id": order_id, "reason": reason, "provider": provider, "now": utcnow()}
    result = await session.execute(_FAIL, params)
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise NotFoundError("Order")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return order, False
    released = lines_of(order)
    await inventory.release(session, released)
    await events.append(
        session,
        ("payments.failed", order.id, {"reason": reason}),
        ("inventory.released", order.id, {"lines": [list(x) for x in released]}),
    )
    return order, True


async def refund_later(
    session: AsyncSession, order_id: uuid.UUID, provider: str, reason: str
) -> None:
    """A charge was captured for an order that had already failed: mark it with `reason` so
    the reconciliation job's refund pass finds the capture and refunds it."""
    await session.execute(
        _REFUND_LATER, {"order_id": order_id, "reason": reason, "provider": provider}
    )


async def record_attempt(
    session: AsyncSession,
    order: Order,
    *,
    kind: str,
    status: str,
    provider: str,
    key: str,
    ref: str | None = None,
    error_code: str | None = None,
) -> None:
    """Keep a charge or refund attempt for reconciliation and the admin view."""
    attempt = {
        "id": uuid.uuid4(),
        "order_id": order.id,
        "kind": kind,
        "status": status,
        "amount": order.total_amount,
        "currency": order.currency,
        "provider": provider,
        "gateway_ref": ref,
        "idempotency_key": key,
        "error_code": error_code,
        "created_at": utcnow(),
    }
    await session.execute(_INSERT_ATTEMPT, attempt)


async def get(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """An order by id (404 if there is none)."""
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFoundError("Order")
    return order


async def get_own(session: AsyncSession, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    """An order of this user; someone else's is indistinguishable from none (404)."""
    order = await session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        raise NotFoundError("Order")
    return order


async def list_own(session: AsyncSession, user_id: uuid.UUID, limit: int = 100) -> list[Order]:
    """This user's orders, newest first."""
    rows = await session.scalars(
        select(Order)
        .where(Order.user_id == user_id)
        .order_by(Order.created_at.desc(), Order.id)
        .limit(limit)
    )
    return list(rows)


def ensure_cancellable(order: Order) -> None:
    """Only confirmed orders can be cancelled."""
    if order.status != OrderStatus.CONFIRMED:
        raise ConflictError(
            "not-cancellable", f"An order that is {order.status} cannot be cancelled."
        )


async def mark_cancelled(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """Confirmed → cancelled exactly once; stock goes back."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.CONFIRMED)
        .values(status=OrderStatus.CANCELLED, payment_status="refunded")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("not-cancellable", "The order is no longer confirmed.")
    order = await get(session, order_id)
    await session.refresh(order)
    await inventory.release(session, lines_of(order))
    await events.append(
        session,
        ("orders.cancelled", order.id, {}),
        ("inventory.released", order.id, {"lines": [list(x) for x in lines_of(order)]}),
    )
    return order


async def settle_uncertain(session: AsyncSession, order_id: uuid.UUID, *, refunded: bool) -> Order:
    """Close a failed order whose charge was uncertain: refunded, or never charged."""
    order = await get(session, order_id)
    order.payment_status = "refunded" if refunded else "not_charged"
    await session.flush()
    return order
