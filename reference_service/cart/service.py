"""Cart rules: quantities 1..99, known products only, a bounded number of lines, one currency,
and a total within the money range."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.cart.models import CartLine
from reference_service.cart.schemas import CartLineRead, CartRead
from reference_service.catalog.models import Product
from reference_service.errors import DomainError, NotFoundError
from reference_service.money import AmountOutOfRangeError, Money, in_range

DEFAULT_CURRENCY = "USD"
MIXED_CURRENCY = "mixed-currency"
OUT_OF_RANGE = "amount-out-of-range"


async def _priced(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[CartLine, Product]]:
    rows = await session.execute(
        select(CartLine, Product)
        .join(Product, Product.id == CartLine.product_id)
        .where(CartLine.user_id == user_id)
        .order_by(CartLine.product_id)
    )
    return [(line, product) for line, product in rows.all()]


def _read(rows: list[tuple[CartLine, Product]]) -> CartRead:
    """Price the lines. Never fails on the prices: a cart an admin's price change made
    unpayable is still shown, with the reason and without a wrong figure."""
    items = []
    for line, product in rows:
        amount = product.price_amount * line.quantity
        items.append(
            CartLineRead(
                product_id=product.id,
                name=product.name,
                quantity=line.quantity,
                unit_price=Money(amount=product.price_amount, currency=product.price_currency),
                line_total=Money(amount=amount, currency=product.price_currency)
                if in_range(amount)
                else None,
            )
        )
    currencies = {product.price_currency for _, product in rows}
    amount = sum(product.price_amount * line.quantity for line, product in rows)
    problem = None
    if len(currencies) > 1:
        problem = MIXED_CURRENCY
    elif not in_range(amount) or any(item.line_total is None for item in items):
        problem = OUT_OF_RANGE
    currency = currencies.pop() if len(currencies) == 1 else DEFAULT_CURRENCY
    return CartRead(
        items=items,
        total=None if problem else Money(amount=amount, currency=currency),
        item_count=sum(item.quantity for item in items),
        checkout_problem=problem,
    )


async def get_cart(session: AsyncSession, user_id: uuid.UUID) -> CartRead:
    """The cart with current prices."""
    return _read(await _priced(session, user_id))


def _refuse_unpayable(
    rows: list[tuple[CartLine, Product]], product: Product, quantity: int
) -> None:
    """Refuse a line that would make the cart one checkout must refuse (nothing is written).

    409, as checkout answers: the prices and currencies are the catalog's state (ADR-015).
    """
    others = [(line, p) for line, p in rows if p.id != product.id]
    if any(p.price_currency != product.price_currency for _, p in others):
        raise DomainError(
            MIXED_CURRENCY,
            409,
            f"The cart is priced in another currency than {product.price_currency}; "
            "one order pays in one currency.",
        )
    amount = product.price_amount * quantity
    if not in_range(amount):
        raise AmountOutOfRangeError("line total")
    if not in_range(amount + sum(p.price_amount * line.quantity for line, p in others)):
        raise AmountOutOfRangeError("cart total")


async def set_line(
    session: AsyncSession, user_id: uuid.UUID, product_id: int, quantity: int, max_lines: int
) -> CartRead:
    """Put `quantity` of a product in the cart (replacing any previous quantity)."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFoundError("Product")
    rows = await _priced(session, user_id)
    _refuse_unpayable(rows, product, quantity)
    line = next((line for line, p in rows if p.id == product_id), None)
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


async def clear_ordered(
    session: AsyncSession, user_id: uuid.UUID, ordered: list[tuple[int, int]]
) -> None:
    """Take out of the cart the lines an order bought, after its checkout succeeded.

    Only a line that still holds exactly the product and quantity ordered: a line added while
    the checkout was in flight, or whose quantity was changed meanwhile, is the customer's
    newer intent and stays as it now is.
    """
    if not ordered:
        return
    await session.execute(
        delete(CartLine).where(
            CartLine.user_id == user_id,
            tuple_(CartLine.product_id, CartLine.quantity).in_(ordered),
        )
    )
