"""The in-process catalog cache stays bounded: anonymous clients choose its keys."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from reference_service.cache import MemoryCache
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-CAT-002")


def test_memory_cache_never_holds_more_than_its_bounds() -> None:
    cache = MemoryCache(max_entries=100, max_bytes=50_000)

    async def fill() -> None:
        for i in range(3000):
            await cache.set(f"k{i}", b"x" * 1000, 60)
            assert cache.bytes_held <= 50_000
            assert len(cache) <= 100
        await cache.set("huge", b"x" * 60_000, 60)  # larger than the whole cache: not kept

    asyncio.run(fill())
    assert len(cache) > 0
    assert asyncio.run(cache.get("k0")) is None  # the oldest went first
    assert asyncio.run(cache.get("k2999")) == b"x" * 1000
    assert asyncio.run(cache.get("huge")) is None


def _entries(client: TestClient) -> int:
    cache = client.app.state.runtime.cache  # type: ignore[attr-defined]
    assert isinstance(cache, MemoryCache)
    return len(cache)


def test_junk_parameters_and_spellings_share_one_key(make_client: AppFactory) -> None:
    _, client = make_client()
    assert client.get("/products", params={"q": "Lamp"}).status_code == 200
    before = _entries(client)
    for i in range(2000):  # thousands of distinct query strings, all the same page
        assert client.get(f"/products?q=lamp&junk{i}={i}").status_code == 200
    for spelling in ("LAMP", "lAmP", "Lamp"):
        assert client.get("/products", params={"q": spelling, "limit": 20}).status_code == 200
    assert _entries(client) == before


def test_distinct_searches_do_not_grow_the_cache_past_its_bound(make_client: AppFactory) -> None:
    _, client = make_client()
    cache = client.app.state.runtime.cache  # type: ignore[attr-defined]
    assert isinstance(cache, MemoryCache)
    cache.max_bytes = 4096  # a small bound, so that a few hundred pages overflow it
    for i in range(500):
        assert client.get("/products", params={"q": f"junk-{i}"}).status_code == 200
        assert cache.bytes_held <= 4096
    assert 0 < len(cache) < 500
