"""Every customer's orders for the admin view, oldest first, with their gateway keys."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from reference_service.admin.schemas import AdminOrderPage, AdminOrderRead
from reference_service.errors import DomainError
from reference_service.money import Money
from reference_service.orders.models import Order
from reference_service.orders.service import charge_key, refund_key

# A cursor is the (created_at, id) of the last order shown: microseconds since the Unix epoch
# (UTC), a dash, and the order id as 32 lowercase hex digits; empty means the first page. The
# contract states this pattern, so every string it allows decodes to a position (16 digits end
# in the year 2286, well inside what datetime and both databases hold).
CURSOR_PATTERN = r"^((0|[1-9][0-9]{0,15})-[0-9a-f]{32})?$"
CURSOR_MAX_LENGTH = 49
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(order: Order) -> str:
    """The cursor of the page after `order` (exact: integer microseconds, no float)."""
    return f"{(order.created_at - _EPOCH) // _MICROSECOND}-{order.id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor stands for (the route's pattern already refused anything else)."""
    if not _CURSOR.fullmatch(cursor) or not cursor:
        raise DomainError("invalid-cursor", 422, "The cursor is not valid.")
    micros, _, order_id = cursor.partition("-")
    return _EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=order_id)


def to_admin_read(order: Order) -> AdminOrderRead:
    """An order as the admin sees it: no lines, but the keys its gateways know it by."""
    return AdminOrderRead(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        total=Money(amount=order.total_amount, currency=order.currency),
        payment_status=order.payment_status,
        payment_provider=order.payment_provider,
        charge_ref=order.charge_ref,
        charge_key=charge_key(order.id),
        refund_key=refund_key(order.id),
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


async def list_all(session: AsyncSession, *, limit: int, cursor: str | None) -> AdminOrderPage:
    """A page of all orders by (created_at, id), and the cursor of the next (null at the end)."""
    query = (
        select(Order)
        .options(raiseload(Order.lines))
        .order_by(Order.created_at, Order.id)
        .limit(limit + 1)
    )
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Order.created_at > created_at,
                and_(Order.created_at == created_at, Order.id > last_id),
            )
        )
    rows = list(await session.scalars(query))
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return AdminOrderPage(items=[to_admin_read(o) for o in page], next_cursor=next_cursor)
