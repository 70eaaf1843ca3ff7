"""Rate limits (the `limits` library): Redis-backed when REDIS_URL is set, else in-process.

If the limiter's storage fails, requests are let through (fail open) and the failure logged:
a cache outage must not take the API down with it.
"""

from __future__ import annotations

import hmac
import math
import time

import structlog
from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from reference_service.errors import DomainError

log = structlog.get_logger("reference_service.ratelimit")

# A load generator sending `RATE_LIMIT_EXEMPT_TOKEN` in this header is exempt from the
# per-client ceiling (one address sends a whole load test), never from a per-user or login
# limit: the business rules and the brute-force guards hold for it as for anyone.
EXEMPT_HEADER = "X-Load-Test-Token"


class RateLimitedError(DomainError):
    """Too many requests; retry after the given number of seconds."""

    def __init__(self, what: str, retry_after_s: int) -> None:
        super().__init__(
            "rate-limited",
            429,
            f"Too many {what}; retry in {retry_after_s} s.",
            title="Too many requests",
            headers={"Retry-After": str(retry_after_s)},
        )


class RateLimits:
    """The service's limits: failed logins, orders per user, a per-client ceiling."""

    def __init__(
        self,
        storage_url: str,
        *,
        login_failures: str,
        orders_per_user: str,
        per_client: str,
        login_failures_per_client: str,
        key_prefix: str = "reference-service",
        exempt_token: str = "",
    ) -> None:
        # Wrapped, any backend error (coredis raises its own, not redis-py's) is a StorageError.
        self.storage = storage_from_string(storage_url, key_prefix=key_prefix, wrap_exceptions=True)
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.login_failures: RateLimitItem = parse(login_failures)
        self.orders_per_user: RateLimitItem = parse(orders_per_user)
        self.per_client: RateLimitItem = parse(per_client)
        self.login_failures_per_client: RateLimitItem = parse(login_failures_per_client)
        self._exempt_token = exempt_token.encode()

    def exempt(self, token: str | None) -> bool:
        """Whether `token` (the EXEMPT_HEADER's value) is the configured exemption token."""
        if not self._exempt_token or token is None:
            return False
        return hmac.compare_digest(token.encode(), self._exempt_token)

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self.limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _hit(self, item: RateLimitItem, what: str, *keys: str) -> None:
        try:
            allowed = await self.limiter.hit(item, *keys)
            if not allowed:
                raise RateLimitedError(what, await self._retry_after(item, *keys))
        except (StorageError, RedisError, OSError) as exc:
            log.warning("rate_limit_storage_unavailable", error=type(exc).__name__)

    async def client_request(self, client: str, token: str | None = None) -> None:
        """Count a request from a client (its address) against the global ceiling, unless
        it carries the exemption token."""
        if self.exempt(token):
            return
        await self._hit(self.per_client, "requests from this client", "client", client)

    async def order(self, user_id: str) -> None:
        """Count an order attempt of a user."""
        await self._hit(self.orders_per_user, "orders", "orders", user_id)

    def _login_limits(self, client: str, email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        # Per client and email (guessing one account), and per client alone (spraying many).
        return [
            (self.login_failures, ("login", client, email.strip().lower())),
            self._client_failures(client),
        ]

    def _client_failures(self, client: str) -> tuple[RateLimitItem, tuple[str, ...]]:
        return self.login_failures_per_client, ("login-client", client)

    async def check_login(self, client: str, email: str) -> None:
        """Refuse a login while this client and email, or this client, failed too often."""
        try:
            for item, keys in self._login_limits(client, email):
                if not await self.limiter.test(item, *keys):
                    raise RateLimitedError("failed logins", await self._retry_after(item, *keys))
        except (StorageError, RedisError, OSError) as exc:
            log.warning("rate_limit_storage_unavailable", error=type(exc).__name__)

    async def login_failed(self, client: str, email: str) -> None:
        """Count a failed login against this client and email, and against this client."""
        try:
            for item, keys in self._login_limits(client, email):
                await self.limiter.hit(item, *keys)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("rate_limit_storage_unavailable", error=type(exc).__name__)

    async def check_registration(self, client: str) -> None:
        """Refuse a registration while this client failed too often (it may be enumerating)."""
        item, keys = self._client_failures(client)
        try:
            if not await self.limiter.test(item, *keys):
                raise RateLimitedError("failed attempts", await self._retry_after(item, *keys))
        except (StorageError, RedisError, OSError) as exc:
            log.warning("rate_limit_storage_unavailable", error=type(exc).__name__)

    async def registration_conflicted(self, client: str) -> None:
        """Count a registration for a taken email against this client's failure budget."""
        item, keys = self._client_failures(client)
        try:
            await self.limiter.hit(item, *keys)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("rate_limit_storage_unavailable", error=type(exc).__name__)
