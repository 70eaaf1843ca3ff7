"""Checkout, order history and cancellation."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import JSONResponse

from reference_service.deps import CurrentUser, RuntimeDep, SessionDep
from reference_service.errors import PROBLEM_MEDIA_TYPE
from reference_service.orders import idempotency
from reference_service.orders import service as orders
from reference_service.orders.schemas import OrderCreate, OrderList, OrderRead

router = APIRouter(prefix="/orders", tags=["orders"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_MEDIA_TYPE: {}}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    operation_id="orders-create",
    responses={
        400: {"description": "Missing or invalid Idempotency-Key", **_PROBLEM},
        402: {"description": "Payment declined; nothing charged", **_PROBLEM},
        409: {
            "description": "Out of stock (out-of-stock), no `items` and an empty cart "
            "(empty-order), the key already used with another body (idempotency-key-reused), "
            "the same key in flight (request-in-progress), or business rules no schema can "
            "state: a product repeated beyond 99 units (quantity-out-of-range), items priced "
            "in two currencies (mixed-currency), or a total beyond the money range "
            "(amount-out-of-range)",
            **_PROBLEM,
        },
        422: {
            "description": "Invalid request (the body or a header breaks the schema)",
            **_PROBLEM,
        },
        429: {"description": "Too many orders; see Retry-After", **_PROBLEM},
        503: {
            "description": "Payments unavailable; nothing held (an uncertain charge is "
            "settled, and refunded if taken)",
            **_PROBLEM,
        },
    },
)
async def create_order(
    body: OrderCreate,
    user: CurrentUser,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Place an order from explicit items or the cart, exactly once per Idempotency-Key."""
    key = idempotency.validate_key(idempotency_key)
    await runtime.limits.order(str(user.id))
    stored = await runtime.checkout.place(user.id, key, body)
    headers = {"Location": stored.location} if stored.location else {}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    media_type = "application/json" if stored.status_code < 400 else PROBLEM_MEDIA_TYPE
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers=headers, media_type=media_type
    )


@router.get("", response_model=OrderList, operation_id="orders-list")
async def list_orders(user: CurrentUser, session: SessionDep) -> OrderList:
    """The caller's orders, newest first."""
    return OrderList(items=[orders.to_read(o) for o in await orders.list_own(session, user.id)])


@router.get("/{order_id}", response_model=OrderRead, operation_id="orders-get")
async def get_order(order_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> OrderRead:
    """One of the caller's orders."""
    return orders.to_read(await orders.get_own(session, user.id, order_id))


@router.post(
    "/{order_id}/cancel",
    response_model=OrderRead,
    operation_id="orders-cancel",
    responses={
        409: {
            "description": "Not cancellable (not confirmed), or the gateway declined the "
            "refund (refund-declined): nothing refunded, the order stays confirmed",
            **_PROBLEM,
        },
        503: {
            "description": "Payments unavailable; see Retry-After. Either the refund surely "
            "was not made and the order is unchanged, or its outcome is unknown and the "
            "cancellation is being settled (the order is cancelled once the refund is "
            "confirmed)",
            **_PROBLEM,
        },
    },
)
async def cancel_order(order_id: uuid.UUID, user: CurrentUser, runtime: RuntimeDep) -> OrderRead:
    """Cancel a confirmed order: refund it, then put the stock back."""
    return await runtime.checkout.cancel(user.id, order_id)
