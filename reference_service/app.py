"""create_app(settings) -> FastAPI: routers, middleware, one error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reference_service import __version__
from reference_service.admin.routes import router as admin_router
from reference_service.cart.routes import router as cart_router
from reference_service.catalog.routes import router as catalog_router
from reference_service.errors import install_error_handlers
from reference_service.health.routes import router as health_router
from reference_service.middleware import EdgeMiddleware
from reference_service.observability import log_unexpected
from reference_service.openapi import install_openapi
from reference_service.orders.routes import router as orders_router
from reference_service.runtime import Runtime, build_runtime
from reference_service.settings import Settings
from reference_service.users.routes import router as users_router


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the service; nothing connects until the first request or the lifespan starts."""
    rt = runtime or build_runtime(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await rt.aclose()

    app = FastAPI(
        title="Reference commerce service",
        version=__version__,
        description="The system under test of Assay: catalog, cart, orders, payments, admin.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.log_unexpected = log_unexpected
    install_error_handlers(app)
    for router in (
        health_router,
        users_router,
        catalog_router,
        cart_router,
        orders_router,
        admin_router,
    ):
        app.include_router(router)
    app.add_middleware(EdgeMiddleware, max_body_bytes=rt.settings.max_body_bytes)
    install_openapi(app)
    return app
