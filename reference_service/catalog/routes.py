"""Public catalog reads, served through the catalog cache.

A cache hit never touches the database: the read session is opened inside the loader, on a
miss, not by a dependency (a generator dependency and its session cost about as much as the
whole cached read).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from reference_service.catalog import service
from reference_service.catalog.cached import page_params
from reference_service.catalog.schemas import ProductPage, ProductRead
from reference_service.deps import RuntimeDep
from reference_service.validation import ProductIdPath, SafeStr

router = APIRouter(prefix="/products", tags=["catalog"])


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get("", response_model=ProductPage, operation_id="catalog-list-products")
async def list_products(
    runtime: RuntimeDep,
    q: Annotated[SafeStr | None, Query(max_length=100, description="Text in the name")] = None,
    category: Annotated[SafeStr | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            pattern=service.CURSOR_PATTERN,
            max_length=service.CURSOR_MAX_LENGTH,
            description="A page's `next_cursor` (the id of the last product shown); empty or"
            " absent is the first page",
        ),
    ] = None,
) -> Response:
    """Browse or search products, a page at a time."""

    async def load() -> ProductPage:
        async with runtime.read_sessions() as session:
            await runtime.slow_query(session)
            return await service.list_products(
                session, q=q, category=category, limit=limit, cursor=cursor
            )

    return _json(await runtime.catalog.page(page_params(q, category, limit, cursor), load))


@router.get("/{product_id}", response_model=ProductRead, operation_id="catalog-get-product")
async def get_product(product_id: ProductIdPath, runtime: RuntimeDep) -> Response:
    """One product."""

    async def load() -> ProductRead:
        async with runtime.read_sessions() as session:
            await runtime.slow_query(session)
            return await service.get_product(session, product_id)

    return _json(await runtime.catalog.product(product_id, load))
