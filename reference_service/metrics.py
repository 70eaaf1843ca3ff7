"""Prometheus metrics. One registry per app; under gunicorn with several workers the values
go through prometheus-client's multiprocess files (PROMETHEUS_MULTIPROC_DIR) and /metrics
adds them up, so a scrape sees the whole replica set of this host."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from reference_service.middleware import ASGIApp, Message, Receive, Scope, Send

access = structlog.get_logger("reference_service.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric the service exports (names are pinned: alert rules and dashboards use them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ready = Gauge("health_ready", "1 when ready", registry=r, multiprocess_mode="min")
        self.breaker = Gauge(
            "circuit_breaker_state",
            "0 closed, 1 half-open, 2 open",
            ["gateway"],
            registry=r,
            multiprocess_mode="max",
        )
        self.outbox_pending = Gauge(
            "outbox_pending_events",
            "Undelivered outbox events",
            registry=r,
            multiprocess_mode="max",
        )
        self.outbox_age = Gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered event",
            registry=r,
            multiprocess_mode="max",
        )
        self.cache = Counter("cache_requests", "Cache lookups", ["cache", "result"], registry=r)
        self.pool_in_use = Gauge(
            "db_pool_connections_in_use",
            "Checked-out DB connections",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "db_pool_size", "DB pool size", registry=r, multiprocess_mode="livesum"
        )
        self.orders = Counter("orders", "Order attempts by outcome", ["outcome"], registry=r)
        self.payments = Counter(
            "payments", "Gateway calls by outcome", ["provider", "kind", "outcome"], registry=r
        )
        # Orders a reconciliation pass could not settle (it carried on with the others).
        self.reconcile_errors = Counter(
            "reconcile_errors",
            "Orders the reconciliation sweep failed to settle",
            ["pass"],
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text format, across worker processes when running under gunicorn."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Count and time each request by route template (never by raw path: bounded labels),
    and write one access log line (with the request's request_id, trace_id and user_id)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope["method"]
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            if self.access_log:
                user_id = scope.get("state", {}).get("user_id")
                access.info(
                    "request",
                    method=method,
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    **({"user_id": user_id} if user_id else {}),
                )


def metrics_router(collect: Callable[[Request], Awaitable[None]]) -> APIRouter:
    """GET /metrics, refreshing point-in-time gauges first."""
    router = APIRouter(tags=["health"])

    @router.get("/metrics", operation_id="health-metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        await collect(request)
        body = request.app.state.runtime.metrics.exposition()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
