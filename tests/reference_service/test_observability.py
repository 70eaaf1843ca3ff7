"""Metrics, logs and traces carry what an SRE needs, and nothing they must not."""

from __future__ import annotations

import json

import pytest
import structlog
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reference_service.observability import PROCESSORS
from tests.builders import admin, customer, order
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-OBS-002")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_metrics_expose_the_pinned_series(client: TestClient) -> None:
    order(client, customer(client), [{"product_id": 1, "quantity": 1}])
    client.get("/products/1")
    client.get("/products/1")
    text = client.get("/metrics").text
    for series in (
        'http_requests_total{method="GET",route="/products/{product_id}",status="200"}',
        'http_request_duration_seconds_bucket{le="0.3",method="GET",route="/products/{product_id}"}',
        'cache_requests_total{cache="catalog",result="hit"}',
        'circuit_breaker_state{gateway="primary"} 0.0',
        'circuit_breaker_state{gateway="fallback"} 0.0',
        'orders_total{outcome="confirmed"} 1.0',
        'payments_total{kind="charge",outcome="succeeded",provider="primary"} 1.0',
        "outbox_pending_events",
        "outbox_oldest_pending_age_seconds",
        "db_pool_connections_in_use",
        "health_ready",
    ):
        assert series in text, series
    assert "/products/1" not in text  # labels are route templates, never raw paths


def test_logs_carry_ids_and_never_secrets(make_client: AppFactory) -> None:
    _, client = make_client()
    with structlog.testing.capture_logs(processors=PROCESSORS) as logs:
        email = "private.person@example.com"
        body = {"email": email, "password": "super-secret-pw", "full_name": "P"}
        client.post("/auth/register", json=body)
        login = {"email": email, "password": "super-secret-pw"}
        token = client.post("/auth/token", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        placed = order(client, headers, [{"product_id": 1, "quantity": 1}], token="tok_visa")
        assert placed.status_code == 201
    requests = [e for e in logs if e["event"] == "request"]
    assert requests
    assert all(e.get("request_id") and e.get("trace_id") for e in requests)
    assert any(e.get("user_id") and e["route"] == "/orders" for e in requests)
    dump = json.dumps(logs, default=str)
    for secret in (email, "super-secret-pw", token, "tok_visa"):
        assert secret not in dump


def test_trace_context_flows_in_and_on_to_the_gateway(make_client: AppFactory) -> None:
    app, client = make_client()
    headers = {**customer(client), "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    response = order(client, headers, [{"product_id": 1, "quantity": 1}])
    assert response.status_code == 201
    assert TRACE_ID in response.headers["traceparent"]
    assert TRACE_ID in (ledger(app, "primary").last_traceparent or "")


def test_a_request_makes_one_server_span(make_client: AppFactory) -> None:
    # FastAPI's own telemetry would add a second server span and one per dependency: it is
    # off, the service's TracingMiddleware makes the only one (and it costs per request).
    _, client = make_client()
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        parent = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
        assert client.get("/products/1", headers=parent).status_code == 200
    finally:
        exporter.shutdown()
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(TRACE_ID, 16)]
    assert [(s.name, s.kind) for s in spans] == [
        ("GET /products/{product_id}", trace.SpanKind.SERVER)
    ]


def test_flag_changes_are_logged_with_their_values(make_client: AppFactory) -> None:
    _, client = make_client()
    with structlog.testing.capture_logs(processors=PROCESSORS) as logs:
        client.put("/admin/flags/payment_latency_ms", json={"value": 40}, headers=admin(client))
    changes = [e for e in logs if e["event"] == "flag_changed"]
    assert [(e["flag"], e["before"], e["after"]) for e in changes] == [
        ("payment_latency_ms", 0, 40)
    ]
