"""Catalog reads through the cache: hits, invalidation, and surviving Redis going away."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, DisposableRedis

pytestmark = pytest.mark.req("REQ-CAT-002")


def _count(client: TestClient, result: str) -> float:
    text = client.get("/metrics").text
    match = re.search(rf'cache_requests_total{{cache="catalog",result="{result}"}} ([0-9.]+)', text)
    return float(match.group(1)) if match else 0.0


def test_detail_is_cached_and_exact_after_changes(make_client: AppFactory) -> None:
    _, client = make_client()
    boss = admin(client)
    item = product(client, boss, stock=4)
    client.get(f"/products/{item['id']}")
    hits = _count(client, "hit")
    assert client.get(f"/products/{item['id']}").json()["available"] == 4
    assert _count(client, "hit") == hits + 1
    client.patch(f"/admin/products/{item['id']}", json={"name": "Renamed"}, headers=boss)
    assert client.get(f"/products/{item['id']}").json()["name"] == "Renamed"
    order(client, customer(client), [{"product_id": item["id"], "quantity": 3}])
    assert client.get(f"/products/{item['id']}").json()["available"] == 1


def test_admin_changes_refresh_list_pages(make_client: AppFactory) -> None:
    _, client = make_client()
    boss = admin(client)
    before = client.get("/products", params={"category": "testing"}).json()["items"]
    item = product(client, boss)
    after = client.get("/products", params={"category": "testing"}).json()["items"]
    assert [p["id"] for p in after] == [p["id"] for p in before] + [item["id"]]


@pytest.mark.req("REQ-FLG-001")
def test_the_cache_flag_turns_caching_off(make_client: AppFactory) -> None:
    _, client = make_client()
    client.put("/admin/flags/catalog_cache_enabled", json={"value": False}, headers=admin(client))
    hits, misses = _count(client, "hit"), _count(client, "miss")
    for _ in range(3):
        assert client.get("/products/1").status_code == 200
    assert (_count(client, "hit"), _count(client, "miss")) == (hits, misses)


@pytest.mark.req("REQ-RES-003", "REQ-OBS-001")
def test_reads_survive_redis_going_away(
    make_client: AppFactory, disposable_redis: DisposableRedis
) -> None:
    _, client = make_client(redis_url=disposable_redis.url)
    first = client.get("/products/5").json()
    assert client.get("/products/5").json() == first
    assert _count(client, "hit") >= 1
    assert client.get("/health/ready").json()["checks"]["cache"] == "ok"
    disposable_redis.stop()
    for _ in range(3):
        response = client.get("/products/5")
        assert response.status_code == 200
        assert response.json() == first
    assert client.get("/products", params={"limit": 5}).status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "degraded"}
    assert client.get("/health/live").status_code == 200
    # orders still work without the cache (rate limits fail open)
    assert order(client, customer(client), [{"product_id": 5, "quantity": 1}]).status_code == 201
