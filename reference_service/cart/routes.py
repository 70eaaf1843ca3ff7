"""The caller's cart."""

from __future__ import annotations

from fastapi import APIRouter

from reference_service.cart import service
from reference_service.cart.schemas import CartLineSet, CartRead
from reference_service.deps import CurrentUser, RuntimeDep, SessionDep
from reference_service.errors import PROBLEM_MEDIA_TYPE
from reference_service.validation import ProductIdPath

router = APIRouter(prefix="/cart", tags=["cart"])


@router.get("", response_model=CartRead, operation_id="cart-get")
async def get_cart(user: CurrentUser, session: SessionDep) -> CartRead:
    """The caller's cart."""
    return await service.get_cart(session, user.id)


@router.put(
    "/items/{product_id}",
    response_model=CartRead,
    operation_id="cart-set-item",
    responses={
        409: {
            "description": "The cart is full (cart-full), or business rules no schema can "
            "state: a product in another currency than the cart (mixed-currency), or a total "
            "beyond the money range (amount-out-of-range)",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
        422: {"description": "Invalid quantity", "content": {PROBLEM_MEDIA_TYPE: {}}},
    },
)
async def set_item(
    product_id: ProductIdPath,
    body: CartLineSet,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> CartRead:
    """Set how many of a product the cart holds."""
    max_lines = runtime.settings.max_cart_lines
    return await service.set_line(session, user.id, product_id, body.quantity, max_lines)


@router.delete("/items/{product_id}", response_model=CartRead, operation_id="cart-remove-item")
async def remove_item(
    product_id: ProductIdPath, user: CurrentUser, session: SessionDep
) -> CartRead:
    """Remove a product from the cart."""
    return await service.remove_line(session, user.id, product_id)
