"""OpenTelemetry tracing: W3C traceparent in and out, OTLP export when configured."""

from __future__ import annotations

import os

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


class TracingMiddleware:
    """A server span per request, continuing the caller's trace; trace_id goes into the logs.

    On the hot path of every request: only the propagator's own headers are decoded, a request
    without them starts a root span without running the extractor, and the response's
    traceparent is formatted from the span instead of running the injector.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = trace.get_tracer("reference_service")
        self.fields = frozenset(f.encode("latin-1") for f in propagate.get_global_textmap().fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers", ())
            if k in self.fields
        }
        context = propagate.extract(carrier) if carrier else None
        name = f"{scope['method']} {scope['path']}"
        span = self.tracer.start_span(name, context=context, kind=SpanKind.SERVER)
        ids = span.get_span_context()
        trace_id = format(ids.trace_id, "032x")
        traceparent = f"00-{trace_id}-{ids.span_id:016x}-{ids.trace_flags:02x}".encode()
        structlog.contextvars.bind_contextvars(trace_id=trace_id)

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                if span.is_recording():
                    span.set_attribute("http.response.status_code", int(message["status"]))
                message["headers"] = [*message.get("headers", []), (b"traceparent", traceparent)]
            await send(message)

        try:
            with trace.use_span(span, end_on_exit=True):
                try:
                    await self.app(scope, receive, send_with_trace)
                finally:
                    route = scope.get("route")
                    if route is not None and span.is_recording():
                        span.update_name(f"{scope['method']} {getattr(route, 'path', '')}")
        finally:
            structlog.contextvars.unbind_contextvars("trace_id")
