"""Public catalog reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reference_service.catalog import service
from reference_service.catalog.schemas import ProductPage, ProductRead
from reference_service.deps import SessionDep
from reference_service.validation import ProductIdPath, SafeStr

router = APIRouter(prefix="/products", tags=["catalog"])


@router.get("", response_model=ProductPage, operation_id="catalog-list-products")
async def list_products(
    session: SessionDep,
    q: Annotated[SafeStr | None, Query(max_length=100, description="Text in the name")] = None,
    category: Annotated[SafeStr | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=200)] = None,
) -> ProductPage:
    """Browse or search products, a page at a time."""
    return await service.list_products(session, q=q, category=category, limit=limit, cursor=cursor)


@router.get("/{product_id}", response_model=ProductRead, operation_id="catalog-get-product")
async def get_product(product_id: ProductIdPath, session: SessionDep) -> ProductRead:
    """One product."""
    return await service.get_product(session, product_id)
