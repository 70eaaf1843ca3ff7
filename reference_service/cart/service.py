"""Cart rules: quantities 1..99, known products only, a bounded number of lines."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.cart.models import CartLine
from reference_service.cart.schemas import CartLineRead, CartRead
from reference_service.catalog.models import Product
from reference_service.errors import DomainError, NotFoundError
from reference_service.money import Money

DEFAULT_CURRENCY = "USD"


async def get_cart(session: AsyncSession, user_id: uuid.UUID) -> CartRead:
    """The cart with current prices."""
    rows = (
        await session.execute(
            select(CartLine, Product)
            .join(Product, Product.id == CartLine.product_id)
            .where(CartLine.user_id == user_id)
            .order_by(CartLine.product_id)
        )
    ).all()
    items = [
        CartLineRead(
            product_id=product.id,
            name=product.name,
            quantity=line.quantity,
            unit_price=Money(amount=product.price_amount, currency=product.price_currency),
            line_total=Money(
                amount=product.price_amount * line.quantity, currency=product.price_currency
            ),
        )
        for line, product in rows
    ]
    currency = items[0].unit_price.currency if items else DEFAULT_CURRENCY
    total = Money(amount=sum(item.line_total.amount for item in items), currency=currency)
    return CartRead(items=items, total=total, item_count=sum(i.quantity for i in items))


async def set_line(
    session: AsyncSession, user_id: uuid.UUID, product_id: int, quantity: int, max_lines: int
) -> CartRead:
    """Put `quantity` of a product in the cart (replacing any previous quantity)."""
    if await session.get(Product, product_id) is None:
        raise NotFoundError("Product")
    line = await session.get(CartLine, (user_id, product_id))
    if line is None:
        count = await session.scalar(
            select(func.count()).select_from(CartLine).where(CartLine.user_id == user_id)
        )
        if (count or 0) >= max_lines:
            raise DomainError(
                "cart-full", 409, f"A cart holds at most {max_lines} lines.", title="Cart full"
            )
        session.add(CartLine(user_id=user_id, product_id=product_id, quantity=quantity))
    else:
        line.quantity = quantity
    await session.flush()
    return await get_cart(session, user_id)


async def remove_line(session: AsyncSession, user_id: uuid.UUID, product_id: int) -> CartRead:
    """Take a product out of the cart; 404 if it was not there."""
    result = await session.execute(
        delete(CartLine).where(CartLine.user_id == user_id, CartLine.product_id == product_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("Cart line")
    return await get_cart(session, user_id)


async def lines(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[int, int]]:
    """The cart as (product_id, quantity) pairs."""
    rows = await session.execute(
        select(CartLine.product_id, CartLine.quantity).where(CartLine.user_id == user_id)
    )
    return [(product_id, quantity) for product_id, quantity in rows.all()]


async def clear(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Empty the cart (after a successful checkout)."""
    await session.execute(delete(CartLine).where(CartLine.user_id == user_id))
