"""Catalog reads through the cache.

Product detail is exact: every stock or product change deletes its key (in every process when
the cache is Redis; the in-process cache is per worker, so other workers' copies live out
their TTL). List pages are keyed by a catalog version that admin changes bump, and live
`catalog_list_ttl_s` seconds, so the `available` counts on a list page may lag checkouts by up
to that long.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from reference_service.cache import Cache
from reference_service.flags import Flags
from reference_service.metrics import Metrics

VERSION_KEY = "catalog:version"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def page_params(q: str | None, category: str | None, limit: int, cursor: str | None) -> str:
    """The canonical cache key material of a list page: only the validated parameters, in a
    fixed order; `q` matches case-insensitively (ASCII, as both databases' LIKE do) and an
    empty one is no filter, so spellings of the same page share one key."""
    text = q.translate(_ASCII_LOWER) if q else None
    return json.dumps([text, category or None, limit, cursor or None], separators=(",", ":"))


class CatalogCache:
    """Cached, serialised catalog responses."""

    def __init__(
        self,
        cache: Cache,
        flags: Flags,
        metrics: Metrics,
        *,
        detail_ttl_s: float,
        list_ttl_s: float,
    ) -> None:
        self.cache = cache
        self.flags = flags
        self.metrics = metrics
        self.detail_ttl_s = detail_ttl_s
        self.list_ttl_s = list_ttl_s

    async def _through(
        self, key: str, ttl_s: float, load: Callable[[], Awaitable[BaseModel]]
    ) -> bytes:
        if not await self.flags.get("catalog_cache_enabled"):
            return (await load()).model_dump_json().encode()
        cached = await self.cache.get(key)
        if cached is not None:
            self.served_hit()
            return cached
        self.metrics.cache.labels("catalog", "miss").inc()
        body = (await load()).model_dump_json().encode()
        await self.cache.set(key, body, ttl_s)
        return body

    async def cached_product(self, product_id: int) -> bytes | None:
        """One product's JSON if the cache holds it (and is on); the caller counts a hit it
        serves with `served_hit` (a miss is counted by `product`, which loads it)."""
        if not await self.flags.get("catalog_cache_enabled"):
            return None
        return await self.cache.get(f"product:{product_id}")

    def served_hit(self) -> None:
        """A cached answer was sent."""
        self.metrics.cache.labels("catalog", "hit").inc()

    async def product(self, product_id: int, load: Callable[[], Awaitable[BaseModel]]) -> bytes:
        """One product's JSON."""
        return await self._through(f"product:{product_id}", self.detail_ttl_s, load)

    async def page(self, params: str, load: Callable[[], Awaitable[BaseModel]]) -> bytes:
        """One list page's JSON, for these query parameters."""
        version = (await self.cache.get(VERSION_KEY) or b"0").decode()
        digest = hashlib.sha256(params.encode()).hexdigest()[:32]
        return await self._through(f"products:{version}:{digest}", self.list_ttl_s, load)

    async def stock_changed(self, product_ids: list[int]) -> None:
        """Stock moved: product details must not show the old count."""
        await self.cache.delete(*(f"product:{pid}" for pid in product_ids))

    async def catalog_changed(self, product_id: int) -> None:
        """An admin changed a product: drop its detail and every cached list page."""
        await self.cache.delete(f"product:{product_id}")
        version = await self.cache.incr(VERSION_KEY)
        await self.cache.set(VERSION_KEY, str(version).encode(), 86400)
