"""Admin: products, stock, payments view and the audit log. Every write is audited."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.admin import audit
from reference_service.admin.models import AuditEntry
from reference_service.admin.schemas import (
    AdminOrderPage,
    AuditEntryRead,
    AuditHead,
    AuditPage,
    AuditVerification,
    StockRead,
    StockSet,
)
from reference_service.catalog import service as catalog
from reference_service.catalog.schemas import ProductCreate, ProductRead, ProductUpdate
from reference_service.deps import AdminUser, RuntimeDep, SessionDep
from reference_service.errors import PROBLEM_MEDIA_TYPE, NotFoundError
from reference_service.inventory import service as inventory
from reference_service.orders import overview
from reference_service.orders.models import Order
from reference_service.payments.models import PaymentAttempt
from reference_service.payments.schemas import PaymentAttemptRead
from reference_service.runtime import Runtime
from reference_service.validation import ProductIdPath

router = APIRouter(prefix="/admin", tags=["admin"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_MEDIA_TYPE: {}}}


async def _commit_then_invalidate(session: AsyncSession, runtime: Runtime, product_id: int) -> None:
    # Invalidate after the commit: done before it, a concurrent read could cache the old row.
    await session.commit()
    await runtime.catalog.catalog_changed(product_id)


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    operation_id="admin-create-product",
)
async def create_product(
    body: ProductCreate, admin: AdminUser, session: SessionDep, runtime: RuntimeDep
) -> ProductRead:
    """Add a product with its initial stock."""
    product = await catalog.create_product(session, body)
    target = f"product:{product.id}"
    await audit.append(
        session,
        runtime.settings.audit_key,
        str(admin.id),
        "product.create",
        target,
        None,
        product.model_dump(),
    )
    await _commit_then_invalidate(session, runtime, product.id)
    return product


@router.patch(
    "/products/{product_id}", response_model=ProductRead, operation_id="admin-update-product"
)
async def update_product(
    product_id: ProductIdPath,
    body: ProductUpdate,
    admin: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> ProductRead:
    """Change a product's name, category, price or description."""
    before, after = await catalog.update_product(session, product_id, body)
    target = f"product:{product_id}"
    await audit.append(
        session,
        runtime.settings.audit_key,
        str(admin.id),
        "product.update",
        target,
        before,
        after.model_dump(),
    )
    await _commit_then_invalidate(session, runtime, product_id)
    return after


@router.put("/inventory/{product_id}", response_model=StockRead, operation_id="admin-set-stock")
async def set_stock(
    product_id: ProductIdPath,
    body: StockSet,
    admin: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> StockRead:
    """Set a product's units on hand."""
    before, after = await inventory.set_stock(session, product_id, body.stock)
    await audit.append(
        session,
        runtime.settings.audit_key,
        str(admin.id),
        "inventory.set",
        f"product:{product_id}",
        {"stock": before},
        {"stock": after},
    )
    await _commit_then_invalidate(session, runtime, product_id)
    return StockRead(product_id=product_id, stock=after)


@router.get(
    "/orders",
    response_model=AdminOrderPage,
    operation_id="admin-list-orders",
    responses={422: {"description": "A limit or cursor outside the documented forms", **_PROBLEM}},
)
async def list_orders(
    _: AdminUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            pattern=overview.CURSOR_PATTERN,
            max_length=overview.CURSOR_MAX_LENGTH,
            description="A page's `next_cursor` (when and which order was shown last); empty or"
            " absent is the first page",
        ),
    ] = None,
) -> AdminOrderPage:
    """Every customer's orders, oldest first, with their gateway idempotency keys."""
    return await overview.list_all(session, limit=limit, cursor=cursor)


@router.get(
    "/orders/{order_id}/payments",
    response_model=list[PaymentAttemptRead],
    operation_id="admin-list-order-payments",
)
async def order_payments(
    order_id: uuid.UUID, _: AdminUser, session: SessionDep
) -> list[PaymentAttemptRead]:
    """Every charge and refund attempt for an order."""
    if await session.get(Order, order_id) is None:
        raise NotFoundError("Order")
    attempts = await session.scalars(
        select(PaymentAttempt)
        .where(PaymentAttempt.order_id == order_id)
        .order_by(PaymentAttempt.created_at, PaymentAttempt.id)
    )
    return [PaymentAttemptRead.model_validate(a, from_attributes=True) for a in attempts]


@router.get("/audit", response_model=AuditPage, operation_id="admin-list-audit")
async def list_audit(
    _: AdminUser,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Audit entries after a sequence number, oldest first."""
    rows = list(
        await session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
        )
    )
    items = [AuditEntryRead.model_validate(row) for row in rows]
    return AuditPage(items=items, next_after=items[-1].seq if len(items) == limit else None)


@router.get("/audit/verify", response_model=AuditVerification, operation_id="admin-verify-audit")
async def verify_audit(_: AdminUser, session: SessionDep, runtime: RuntimeDep) -> AuditVerification:
    """Recompute the chain with the service's key and report the first broken entry, if any."""
    valid, entries, broken = await audit.verify(session, runtime.settings.audit_key)
    return AuditVerification(valid=valid, entries=entries, first_broken_seq=broken)


@router.get("/audit/head", response_model=AuditHead, operation_id="admin-audit-head")
async def audit_head(_: AdminUser, session: SessionDep) -> AuditHead:
    """The newest entry's sequence and hash (0 and the genesis hash when empty), to anchor."""
    sequence, head_hash = await audit.head(session)
    return AuditHead(sequence=sequence, hash=head_hash)
