"""Every customer's orders for the admin view, oldest first, with their gateway keys."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from reference_service.admin.schemas import AdminOrderPage, AdminOrderRead
from reference_service.errors import DomainError
from reference_service.money import Money
from reference_service.orders.models import Order
from reference_service.orders.service import charge_key, refund_key


def encode_cursor(order: Order) -> str:
    """Opaque keyset cursor: the (created_at, id) of the last order shown."""
    raw = f"o:{order.created_at.isoformat()}|{order.id.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor stands for; 422 for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, rest = raw.partition(":")
        at, _, order_id = rest.partition("|")
        created_at, last_id = datetime.fromisoformat(at), uuid.UUID(hex=order_id)
        if prefix != "o" or created_at.tzinfo is None:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise DomainError("invalid-cursor", 422, "The cursor is not valid.") from exc
    return created_at, last_id


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
