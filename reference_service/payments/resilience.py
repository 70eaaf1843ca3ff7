"""One gateway made dependable: fault flags, a timeout budget, bounded jittered retries that
reuse the charge's idempotency key, a circuit breaker, and reconciliation of ambiguous calls."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from circuitbreaker import CircuitBreaker
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from reference_service.payments.gateway import GatewayError, GatewayResult, HttpGateway

BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}


@dataclass(frozen=True)
class Faults:
    """Fault injection applied in front of a gateway (from feature flags)."""

    down: bool = False
    latency_ms: int = 0
    error_rate: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one gateway before giving up on it."""

    attempts: int = 3
    attempt_timeout_s: float = 1.0
    budget_s: float = 2.5
    backoff_max_s: float = 0.2


class ResilientGateway:
    """A gateway behind a breaker, with retries; raises GatewayError when it cannot answer."""

    def __init__(
        self,
        gateway: HttpGateway,
        policy: RetryPolicy,
        *,
        failure_threshold: int = 5,
        recovery_timeout_s: int = 10,
        faults: Callable[[], Awaitable[Faults]] | None = None,
        rng: random.Random | None = None,
        trust_failed_lookup: bool = False,
    ) -> None:
        self.gateway = gateway
        self.name = gateway.name
        self.policy = policy
        self.breaker = CircuitBreaker(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_timeout_s,
            # A cancelled attempt (the caller gave up or disconnected) is no sign of health:
            # counted as a failure, where the breaker would otherwise reset to closed.
            expected_exception=(GatewayError, asyncio.CancelledError),
            name=f"gateway-{gateway.name}",
        )
        self._faults = faults
        self._trial_in_flight = False
        self._rng = rng or random.Random()  # noqa: S311 - fault injection, not security
        # Deliberately weakened (PAYMENT_TRUST_FAILED_LOOKUP): a lookup that fails counts as
        # "not charged", so the fallback charges again. Only for proving the harness bites.
        self.trust_failed_lookup = trust_failed_lookup

    @property
    def state(self) -> str:
        """closed, half_open or open."""
        return str(self.breaker.state)

    async def _attempt(self, call: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        # Every failure leaves here as a GatewayError, so the breaker counts it (the breaker
        # resets on any exception type it does not expect).
        faults = await self._faults() if self._faults else Faults()
        sent = False
        try:
            async with asyncio.timeout(self.policy.attempt_timeout_s):
                if faults.down:
                    raise GatewayError(f"{self.name}: down (flag)", ambiguous=False)
                if faults.latency_ms:
                    await asyncio.sleep(faults.latency_ms / 1000)
                if faults.error_rate and self._rng.random() < faults.error_rate:
                    raise GatewayError(f"{self.name}: injected error (flag)", ambiguous=False)
                sent = True
                return await call()
        except TimeoutError as exc:
            # Held by an injected fault: never sent. Otherwise it may have been processed, or
            # may still be: the gateway can record it after this side gave up.
            raise GatewayError(f"{self.name}: timed out", ambiguous=sent, in_flight=sent) from exc

    async def _guarded(self, call: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        if self.breaker.opened:
            raise GatewayError(f"{self.name}: circuit open", ambiguous=False)
        if self.breaker.state != "half_open":
            return await self.breaker.call_async(self._attempt, call)  # type: ignore[no-any-return]
        # Half-open admits one trial call; the rest go elsewhere instead of all waiting on it.
        if self._trial_in_flight:
            raise GatewayError(f"{self.name}: circuit half-open, trial in flight", ambiguous=False)
        self._trial_in_flight = True
        try:
            return await self.breaker.call_async(self._attempt, call)  # type: ignore[no-any-return]
        finally:
            self._trial_in_flight = False

    async def _with_retries(self, call: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        ambiguous = in_flight = False
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts) | stop_after_delay(self.policy.budget_s),
            wait=wait_random_exponential(multiplier=0.02, max=self.policy.backoff_max_s),
            retry=retry_if_exception(lambda e: isinstance(e, GatewayError) and self.breaker.closed),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        return await self._guarded(call)
                    except GatewayError as exc:
                        ambiguous = ambiguous or exc.ambiguous
                        in_flight = in_flight or exc.in_flight
                        raise
        except GatewayError as exc:
            raise GatewayError(str(exc), ambiguous=ambiguous, in_flight=in_flight) from exc
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def charge(self, key: str, amount: int, currency: str, token: str) -> GatewayResult:
        """Charge with retries on the same key; an ambiguous failure is looked up by key.

        Only a lookup that positively finds no charge makes the failure a clean one (safe to
        go elsewhere), and only when every attempt was answered: an attempt still in flight
        (sent, unanswered) can be recorded after the lookup, so "no such charge" then proves
        nothing and the failure stays ambiguous (the order fails as uncertain and the
        reconciliation job refunds a charge that lands). A lookup that fails in any way leaves
        it ambiguous too: the charge may have landed, and the caller must not try another
        gateway.
        """
        try:
            return await self._with_retries(
                lambda: self.gateway.charge(key, amount, currency, token)
            )
        except GatewayError as exc:
            if not exc.ambiguous:
                raise
            try:
                found = await self.find_charge(key)
            except GatewayError as lookup:
                message = f"{exc}; {lookup}"
                raise GatewayError(message, ambiguous=not self.trust_failed_lookup) from exc
            if found is None and exc.in_flight:  # not yet, perhaps: a request may still land
                raise GatewayError(f"{exc}; no charge yet", ambiguous=True, in_flight=True) from exc
            if found is None:  # answered, and it has no such charge: surely not charged
                raise GatewayError(str(exc), ambiguous=False) from exc
            return found

    async def find_charge(self, key: str) -> GatewayResult | None:
        """Reconcile: ask the gateway what happened to a charge key (bypasses faults/breaker).

        None when it has no such charge; GatewayError (always ambiguous) when it cannot say."""
        try:
            async with asyncio.timeout(self.policy.attempt_timeout_s):
                return await self.gateway.find_charge(key)
        except TimeoutError as exc:
            raise GatewayError(f"{self.name}: lookup timed out", ambiguous=True) from exc

    async def refund(self, key: str, charge_ref: str, amount: int) -> GatewayResult:
        """Refund with retries on the same key."""
        return await self._with_retries(lambda: self.gateway.refund(key, charge_ref, amount))
