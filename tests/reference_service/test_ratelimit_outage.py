"""Regression (chaos experiment 03): rate limits fail open when their Redis is gone.

The `limits` Redis storage talks through coredis, whose ConnectionError is not redis-py's
RedisError, so with Redis stopped every request failed with a 500 instead of passing.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from reference_service.ratelimit import RateLimits


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.req("REQ-RES-003")
def test_requests_pass_when_the_limiter_storage_is_down() -> None:
    limits = RateLimits(
        f"async+redis://127.0.0.1:{_closed_port()}/0",
        login_failures="5/minute",
        orders_per_user="30/minute",
        per_client="6000/minute",
        login_failures_per_client="20/minute",
    )

    async def calls() -> None:
        await limits.client_request("203.0.113.9")
        await limits.order("user-1")
        await limits.check_login("203.0.113.9", "a@example.com")
        await limits.login_failed("203.0.113.9", "a@example.com")

    asyncio.run(calls())  # no exception: fail open
    assert limits.storage.wrap_exceptions
