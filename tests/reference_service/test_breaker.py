"""Regressions (chaos experiment 04): the payment breaker under a latency spike with load.

- A cancelled attempt (the client gave up) reset the breaker to closed, so under load every
  cancellation re-exposed checkout to the slow primary with full retries.
- Half-open let every concurrent call through to the failing primary; it admits one trial.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from reference_service.payments.gateway import GatewayError, HttpGateway
from reference_service.payments.resilience import Faults, ResilientGateway, RetryPolicy
from reference_service.payments.simulator import create_gateway_app

DEADLINE_S = 5.0


def _gateway(faults: Faults, *, threshold: int, recovery_s: int = 10) -> ResilientGateway:
    transport = httpx.ASGITransport(app=create_gateway_app("primary"))
    client = httpx.AsyncClient(transport=transport, base_url="http://primary")

    async def current() -> Faults:
        return faults

    return ResilientGateway(
        HttpGateway("primary", client),
        RetryPolicy(attempts=1, attempt_timeout_s=1.0, budget_s=2.0),
        failure_threshold=threshold,
        recovery_timeout_s=recovery_s,
        faults=current,
    )


@pytest.mark.req("REQ-PAY-002")
def test_a_cancelled_attempt_does_not_close_the_breaker() -> None:
    gateway = _gateway(Faults(latency_ms=800), threshold=5)

    async def scenario() -> int:
        charge = asyncio.create_task(gateway.charge("k-1", 100, "USD", "tok_visa"))
        for _ in range(10):  # yield until the attempt waits in its injected latency
            await asyncio.sleep(0)
        assert not charge.done()
        charge.cancel()
        with pytest.raises(asyncio.CancelledError):
            await charge
        return gateway.breaker.failure_count

    assert asyncio.run(scenario()) == 1  # counted as a failure, not reset to 0


@pytest.mark.req("REQ-PAY-002")
def test_half_open_admits_one_trial_and_fails_the_rest_fast() -> None:
    gateway = _gateway(Faults(latency_ms=300), threshold=1, recovery_s=1)

    async def scenario() -> tuple[bool, str]:
        with pytest.raises(GatewayError):  # one refused call opens it (threshold 1)
            await _gateway_down(gateway)
        deadline = time.monotonic() + DEADLINE_S
        while gateway.breaker.state != "half_open" and time.monotonic() < deadline:  # noqa: ASYNC110 - the breaker has no event to wait on
            await asyncio.sleep(0.05)  # polling the breaker's clock with a deadline
        trial = asyncio.create_task(gateway.charge("k-trial", 100, "USD", "tok_visa"))
        await asyncio.sleep(0)  # the trial enters the breaker first
        started = time.monotonic()
        try:
            await gateway.charge("k-other", 100, "USD", "tok_visa")
            refused = ""
        except GatewayError as exc:
            refused = str(exc)
        fast = time.monotonic() - started < 0.2
        result = await trial
        return fast and result.approved, refused

    fast_and_trial_ok, refused = asyncio.run(scenario())
    assert "half-open" in refused
    assert fast_and_trial_ok


async def _gateway_down(gateway: ResilientGateway) -> None:
    faults = gateway._faults
    gateway._faults = _down
    try:
        await gateway.charge("k-down", 100, "USD", "tok_visa")
    finally:
        gateway._faults = faults


async def _down() -> Faults:
    return Faults(down=True)
