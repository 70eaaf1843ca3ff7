"""Reserve and release stock with conditional updates, so nothing oversells."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.db import table_of
from reference_service.errors import DomainError, NotFoundError
from reference_service.inventory.models import StockLevel

_STOCK = table_of(StockLevel)
_LOCK = select(_STOCK.c.stock).where(_STOCK.c.product_id == bindparam("pid")).with_for_update()
_TAKE = (
    update(_STOCK)
    .where(_STOCK.c.product_id == bindparam("pid"), _STOCK.c.stock >= bindparam("qty"))
    .values(stock=_STOCK.c.stock - bindparam("qty"))
)
_GIVE = (
    update(_STOCK)
    .where(_STOCK.c.product_id == bindparam("pid"))
    .values(stock=_STOCK.c.stock + bindparam("qty"))
)


class OutOfStockError(DomainError):
    """Not enough units on hand."""

    def __init__(self, product_id: int) -> None:
        super().__init__(
            "out-of-stock",
            409,
            f"Product {product_id} does not have enough stock for this order.",
            title="Out of stock",
            extra={"product_id": product_id},
        )


async def reserve(
    session: AsyncSession, lines: Iterable[tuple[int, int]], *, lock_rows: bool = False
) -> None:
    """Take units for every (product_id, quantity) line, or none of them.

    Lines are taken in product order so two orders never wait on each other's rows.
    The decrement is conditional (`stock >= quantity`), and `CHECK (stock >= 0)` backs it.
    """
    for product_id, quantity in sorted(lines):
        if lock_rows:
            await session.execute(_LOCK, {"pid": product_id})
        result = await session.execute(_TAKE, {"pid": product_id, "qty": quantity})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise OutOfStockError(product_id)


async def release(session: AsyncSession, lines: Iterable[tuple[int, int]]) -> None:
    """Give units back (a failed payment, a cancellation, an expired reservation)."""
    for product_id, quantity in sorted(lines):
        await session.execute(_GIVE, {"pid": product_id, "qty": quantity})


async def set_stock(session: AsyncSession, product_id: int, stock: int) -> tuple[int, int]:
    """Set units on hand; returns (before, after)."""
    level = await session.get(StockLevel, product_id, with_for_update=True)
    if level is None:
        raise NotFoundError("Product")
    before = level.stock
    level.stock = stock
    await session.flush()
    return before, stock
