"""Catalog cache: Redis when REDIS_URL is set, else in-process. Losing Redis is never fatal:
reads fall through to the database and readiness reports the cache as degraded."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

log = structlog.get_logger("reference_service.cache")


class Cache(Protocol):
    """Bytes by key, with a TTL; never raises for a backend outage."""

    name: str

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def incr(self, key: str) -> int: ...
    async def healthy(self) -> bool: ...
    async def aclose(self) -> None: ...


class MemoryCache:
    """An LRU with expiry, per process, bounded by entries and by bytes held (keys + values):
    anonymous reads fill it, so distinct pages must not grow it without limit."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._counters: dict[str, int] = {}
        self.bytes_held = 0

    def __len__(self) -> int:
        return len(self._data)

    def _drop(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self.bytes_held -= len(key) + len(item[1])

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._drop(key)
        if len(key) + len(value) > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        self._data[key] = (time.monotonic() + ttl_s, value)
        self.bytes_held += len(key) + len(value)
        while len(self._data) > self.max_entries or self.bytes_held > self.max_bytes:
            self._drop(next(iter(self._data)))  # least recently used first

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)

    async def incr(self, key: str) -> int:
        self._counters[key] = self._counters.get(key, 0) + 1
        return self._counters[key]

    async def healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._data.clear()
        self.bytes_held = 0


class RedisCache:
    """Redis with short timeouts; after a failure it stays out of the way for a while."""

    name = "redis"

    def __init__(self, url: str, retry_after_s: float = 2.0) -> None:
        self.client = aioredis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, retry_on_timeout=False
        )
        self.retry_after_s = retry_after_s
        self._down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, op: str, exc: Exception) -> None:
        self._down_until = time.monotonic() + self.retry_after_s
        log.warning("cache_unavailable", op=op, error=type(exc).__name__)

    async def get(self, key: str) -> bytes | None:
        if not self._available():
            return None
        try:
            value = await self.client.get(key)
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return None
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if not self._available():
            return
        try:
            await self.client.set(key, value, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._failed("set", exc)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self.client.delete(*keys)
        except (RedisError, OSError) as exc:
            self._failed("delete", exc)

    async def incr(self, key: str) -> int:
        try:
            return int(await self.client.incr(key))
        except (RedisError, OSError) as exc:
            self._failed("incr", exc)
            return int(time.time() * 1000)  # a fresh version still invalidates this process

    async def healthy(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def aclose(self) -> None:
        await self.client.aclose()
