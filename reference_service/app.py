"""create_app(settings) -> FastAPI: routers, middleware, one error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute

from reference_service import __version__
from reference_service.admin.ops_routes import flag_router
from reference_service.admin.ops_routes import router as admin_ops_router
from reference_service.admin.routes import router as admin_router
from reference_service.cart.routes import router as cart_router
from reference_service.catalog.hot import CachedProductReads
from reference_service.catalog.routes import router as catalog_router
from reference_service.errors import install_error_handlers
from reference_service.events.relay import lag
from reference_service.health.routes import router as health_router
from reference_service.metrics import MetricsMiddleware, metrics_router
from reference_service.middleware import EdgeMiddleware
from reference_service.observability import log_unexpected
from reference_service.openapi import install_openapi
from reference_service.orders.routes import router as orders_router
from reference_service.payments.resilience import BREAKER_STATES
from reference_service.ratelimit import EXEMPT_HEADER
from reference_service.runtime import Runtime, build_runtime
from reference_service.settings import Settings
from reference_service.tracing import TracingMiddleware, configure_tracing
from reference_service.users.routes import router as users_router


async def limit_client(request: Request) -> None:
    """The global per-client ceiling (by peer address)."""
    runtime: Runtime = request.app.state.runtime
    client = request.client.host if request.client else "unknown"
    await runtime.limits.client_request(client, request.headers.get(EXEMPT_HEADER))


async def collect_gauges(request: Request) -> None:
    """Point-in-time gauges, refreshed when /metrics is scraped."""
    runtime: Runtime = request.app.state.runtime
    metrics = runtime.metrics
    for gateway in runtime.gateways:
        metrics.breaker.labels(gateway.name).set(BREAKER_STATES.get(gateway.state, 0))
    pool = runtime.engine.pool
    metrics.pool_in_use.set(getattr(pool, "checkedout", lambda: 0)())
    metrics.pool_size.set(getattr(pool, "size", lambda: 0)())
    async with runtime.read_sessions() as session:
        pending, age = await lag(session)
    metrics.outbox_pending.set(pending)
    metrics.outbox_age.set(age)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the service; nothing connects until the first request or the lifespan starts."""
    rt = runtime or build_runtime(settings or Settings())
    configure_tracing(rt.settings.trace_sample_ratio)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await rt.start_jobs()
        try:
            yield
        finally:
            await rt.aclose()

    app = FastAPI(
        title="Reference commerce service",
        version=__version__,
        description="The system under test of Assay: catalog, cart, orders, payments, admin.",
        lifespan=lifespan,
        # Starlette's trailing-slash redirect builds an absolute Location from the Host header
        # (`Host: evil.example` sent clients there): no redirect, `/products/` is a 404.
        redirect_slashes=False,
        # Our TracingMiddleware makes the server span (and puts traceparent in the response and
        # trace_id in the logs); FastAPI's own telemetry would add a second server span plus
        # one per dependency, and OTel metrics nobody scrapes (Prometheus has ours).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = rt
    app.state.log_unexpected = log_unexpected
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router(collect_gauges))
    limited = [Depends(limit_client)]
    for router in (
        users_router,
        catalog_router,
        cart_router,
        orders_router,
        admin_router,
        admin_ops_router,
        flag_router(rt.flags.definitions),
    ):
        app.include_router(router, dependencies=limited)
    product_route = next(
        r
        for r in catalog_router.routes
        if isinstance(r, APIRoute) and r.operation_id == "catalog-get-product"
    )
    app.add_middleware(CachedProductReads, runtime=rt, route=product_route)
    app.add_middleware(MetricsMiddleware, metrics=rt.metrics, access_log=rt.settings.access_log)
    app.add_middleware(TracingMiddleware)
    app.add_middleware(EdgeMiddleware, max_body_bytes=rt.settings.max_body_bytes)
    install_openapi(app)
    return app
