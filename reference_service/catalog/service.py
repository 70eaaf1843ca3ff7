"""Browse, search and maintain products."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.catalog.models import Product
from reference_service.catalog.schemas import ProductCreate, ProductPage, ProductRead, ProductUpdate
from reference_service.errors import ConflictError, DomainError, NotFoundError
from reference_service.inventory.models import StockLevel
from reference_service.money import Money


def to_read(product: Product, stock: int) -> ProductRead:
    """A product row and its stock as the API shows them."""
    return ProductRead(
        id=product.id,
        sku=product.sku,
        name=product.name,
        category=product.category,
        description=product.description,
        price=Money(amount=product.price_amount, currency=product.price_currency),
        available=stock,
    )


def _with_stock() -> Select[Product, int]:
    return select(Product, StockLevel.stock).join(StockLevel, StockLevel.product_id == Product.id)


# A cursor is the id of the last product shown, in decimal without leading zeros (empty means
# the first page). The contract states this pattern, so every string it allows is a cursor this
# module decodes: a made-up one is a position, not a 422. Ids are 32-bit, so one past the
# largest id simply has nothing after it.
CURSOR_PATTERN = r"^(0|[1-9][0-9]{0,9})?$"
CURSOR_MAX_LENGTH = 10
_LARGEST_ID = 2**31 - 1
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(last_id: int) -> str:
    """The cursor of the page after the product `last_id`."""
    return str(last_id)


def decode_cursor(cursor: str) -> int:
    """The last id a cursor stands for (the route's pattern already refused anything else)."""
    if not _CURSOR.fullmatch(cursor) or not cursor:
        raise DomainError("invalid-cursor", 422, "The cursor is not valid.")
    return min(int(cursor), _LARGEST_ID)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_products(
    session: AsyncSession, *, q: str | None, category: str | None, limit: int, cursor: str | None
) -> ProductPage:
    """A page of products in id order, optionally filtered by text and category."""
    query = _with_stock().order_by(Product.id).limit(limit + 1)
    if cursor:
        query = query.where(Product.id > decode_cursor(cursor))
    if q:
        query = query.where(Product.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    if category:
        query = query.where(Product.category == category)
    rows = (await session.execute(query)).all()
    items = [to_read(product, stock) for product, stock in rows[:limit]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return ProductPage(items=items, next_cursor=next_cursor)


async def get_product(session: AsyncSession, product_id: int) -> ProductRead:
    """One product with its stock."""
    row = (await session.execute(_with_stock().where(Product.id == product_id))).first()
    if row is None:
        raise NotFoundError("Product")
    return to_read(row[0], row[1])


async def create_product(session: AsyncSession, data: ProductCreate) -> ProductRead:
    """Add a product and its stock; 409 for a duplicate SKU."""
    product = Product(
        sku=data.sku,
        name=data.name,
        category=data.category,
        description=data.description,
        price_amount=data.price.amount,
        price_currency=data.price.currency,
    )
    try:
        async with session.begin_nested():
            session.add(product)
            await session.flush()
            session.add(StockLevel(product_id=product.id, stock=data.stock))
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError("duplicate-sku", f"SKU {data.sku} already exists.") from exc
    return to_read(product, data.stock)


async def update_product(
    session: AsyncSession, product_id: int, data: ProductUpdate
) -> tuple[dict[str, Any], ProductRead]:
    """Apply the given fields; returns (before, after) for the audit log."""
    before = await get_product(session, product_id)
    product = await session.get(Product, product_id)
    assert product is not None  # get_product raised otherwise
    changes = data.model_dump(exclude_none=True)
    if "price" in changes:
        price = changes.pop("price")
        product.price_amount, product.price_currency = price["amount"], price["currency"]
    for field, value in changes.items():
        setattr(product, field, value)
    await session.flush()
    return before.model_dump(), to_read(product, before.available)
