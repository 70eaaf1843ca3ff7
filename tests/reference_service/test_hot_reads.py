"""Cached product reads answered before routing: same bytes, same ceiling, same metrics."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference_service.catalog.schemas import ProductRead
from reference_service.runtime import Runtime
from tests.builders import admin
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-CAT-002")


def _served(client: TestClient, status: int) -> float:
    text = client.get("/metrics").text
    series = (
        rf'http_requests_total{{method="GET",route="/products/{{product_id}}",status="{status}"}}'
    )
    match = re.search(series + r" ([0-9.]+)", text)
    return float(match.group(1)) if match else 0.0


def _route_must_not_load(runtime: Runtime) -> None:
    async def refuse(product_id: int, load: object) -> bytes:
        raise AssertionError(f"the route loaded product {product_id}")

    runtime.catalog.product = refuse  # type: ignore[method-assign]


def test_a_cache_hit_replays_the_routes_own_answer(make_client: AppFactory) -> None:
    app, client = make_client()
    first = client.get("/products/1")  # a miss: the route loads and caches it
    _route_must_not_load(app.state.runtime)
    again = client.get("/products/1")
    assert again.status_code == 200
    assert again.content == first.content
    assert ProductRead.model_validate_json(again.content).id == 1
    for header in ("content-type", "content-length", "x-request-id", "x-content-type-options"):
        assert header in again.headers
    assert again.headers["content-type"] == first.headers["content-type"]
    assert _served(client, 200) == 2  # both counted under the route template


def test_misses_and_unusual_ids_go_to_the_route(make_client: AppFactory) -> None:
    app, client = make_client()
    _route_must_not_load(app.state.runtime)
    assert client.get("/products/2").status_code == 500  # a miss reached the route
    for path, status in (("/products/0", 422), ("/products/2147483648", 422), ("/products/x", 422)):
        assert client.get(path).status_code == status, path


def _hits(app: FastAPI) -> float:
    runtime: Runtime = app.state.runtime
    return (
        runtime.metrics.registry.get_sample_value(
            "cache_requests_total", {"cache": "catalog", "result": "hit"}
        )
        or 0.0
    )


def test_the_client_ceiling_holds_for_cached_reads(make_client: AppFactory) -> None:
    app, client = make_client(rate_limit_per_client="4/minute")
    statuses = [client.get("/products/1").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # one miss, three hits, then the ceiling
    assert _hits(app) == 3  # a refused request is not a cache hit
    limited = client.get("/products/1")
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1


@pytest.mark.req("REQ-FLG-001")
def test_with_the_cache_off_every_read_goes_to_the_route(make_client: AppFactory) -> None:
    app, client = make_client()
    client.get("/products/1")
    client.put("/admin/flags/catalog_cache_enabled", json={"value": False}, headers=admin(client))
    _route_must_not_load(app.state.runtime)
    assert client.get("/products/1").status_code == 500  # the route was asked, not the cache
