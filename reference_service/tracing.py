"""OpenTelemetry tracing: W3C traceparent in and out, OTLP export when configured."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind

from reference_service import __version__
from reference_service.middleware import ASGIApp, Message, Receive, Scope, Send

_configured = False


def configure_tracing(sample_ratio: float = 0.1) -> None:
    """Install the tracer provider once per process (OTLP exporter if the endpoint is set)."""
    global _configured
    if _configured:
        return
    resource = Resource.create(
        {"service.name": "reference-service", "service.version": __version__}
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(sample_ratio))
    )
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def _carrier(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


class TracingMiddleware:
    """A server span per request, continuing the caller's trace; trace_id goes into the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = trace.get_tracer("reference_service")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = propagate.extract(_carrier(scope))
        name = f"{scope['method']} {scope['path']}"
        with self.tracer.start_as_current_span(name, context=context, kind=SpanKind.SERVER) as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            structlog.contextvars.bind_contextvars(trace_id=trace_id)

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", int(message["status"]))
                    headers: MutableMapping[str, Any] = {}
                    propagate.inject(headers)
                    message["headers"] = [
                        *message.get("headers", []),
                        *((k.encode(), str(v).encode()) for k, v in headers.items()),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_with_trace)
            finally:
                route = scope.get("route")
                if route is not None:
                    span.update_name(f"{scope['method']} {getattr(route, 'path', '')}")
                structlog.contextvars.unbind_contextvars("trace_id")
