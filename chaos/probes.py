"""Chaos Toolkit probes: measurements and predicates over HTTP and the stack's database.

Use as `{"type": "python", "module": "chaos.probes", "func": ...}`. Every probe returns a
JSON object with `held` (did the expectation hold) and, when it did not, a readable `reason`;
experiments tolerate `{"type": "jsonpath", "path": "$.held", "expect": true}`. Probes only
read: their rollback is "none needed". Traffic is bounded in time and request count.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from chaos import invariants, traffic
from chaos.checkout_probes import (
    breaker_opens,
    checkout_recovers_within,
    checkout_rush,
    checkouts_answer,
    hot_product_not_oversold,
)
from chaos.context import Configuration, boundary, http_client, resolve
from chaos.ledger_probes import checkouts_capture_once, gateway_ledgers_agree
from chaos.verdicts import burst, verdict

__all__ = [
    "acknowledged_orders_exist",
    "breaker_opens",
    "checkout_recovers_within",
    "checkout_rush",
    "checkouts_answer",
    "checkouts_capture_once",
    "gateway_ledgers_agree",
    "hot_product_not_oversold",
    "no_confirmed_without_capture",
    "one_capture_per_order",
    "readiness_becomes",
    "readiness_recovers_within",
    "server_errors_stop_within",
    "service_ready",
    "stock_conserved",
    "stock_never_negative",
    "traffic_within_slo",
]

POLL_S = 0.25


@boundary
def traffic_within_slo(
    duration_s: float = 5.0,
    rate_rps: float = 20.0,
    journey: str | None = None,
    judge: bool = True,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Send a burst (mixed, or only `journey`: browse, product or checkout); its p95 and error
    rate against the catalog's SLOs. `judge=False` only measures (e.g. load that trips a
    breaker): `held` is then null and the probe does not count towards the score."""
    context = resolve(configuration)
    mix = {journey: 1.0} if journey else None
    if judge:  # long enough for the statistics it judges, whatever the experiment asked
        duration_s = max(duration_s, traffic.min_requests() / rate_rps)
    samples = burst(context, duration_s, rate_rps, mix=mix)
    measured = traffic.measure(samples)
    slos = traffic.judge_slos(measured)
    missed = [
        f"{s['id']} observed {s['observed']} {s['unit']} (objective < {s['objective']})"
        for s in slos
        if s["held"] is False
    ]
    if not judge:
        return {
            "held": None,
            "reason": "measured only",
            "journey": journey,
            "slos": slos,
            **measured,
        }
    scope = f"{journey} " if journey else ""
    reason = f"{scope}traffic missed " + "; ".join(missed)
    return verdict(not missed, reason, journey=journey, slos=slos, **measured)


@boundary
def server_errors_stop_within(
    after_event: str,
    within_s: float = 10.0,
    duration_s: float = 20.0,
    rate_rps: float = 15.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Send traffic for `duration_s` (run it in the background of a method); every 5xx or
    unanswered request must come before the last `after_event` + `within_s`."""
    context = resolve(configuration)
    started = time.time()
    samples = burst(context, duration_s, rate_rps)
    events = [t for t in context.events(after_event) if t >= started]
    failures = [s for s in samples if s.failed]
    base = {"requests": len(samples), "failures": len(failures), **traffic.measure(samples)}
    if not events:
        return verdict(False, f"event {after_event!r} never happened during the traffic", **base)
    cutoff = events[-1] + within_s
    late = [s for s in failures if s.at > cutoff]
    last = max((s.at for s in failures), default=None)
    return verdict(
        not late,
        f"{len(late)} server errors more than {within_s:.0f} s after {after_event} "
        f"(last {last - events[-1]:.1f} s after)"
        if last
        else "",
        errors_stopped_after_s=round(last - events[-1], 2) if last else None,
        late=len(late),
        **base,
    )


def _ready(client: httpx.Client, base_url: str) -> tuple[int, dict[str, Any]]:
    try:
        response = client.get(f"{base_url}/health/ready", timeout=2.0)
    except httpx.HTTPError:
        return 0, {}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}


@boundary
def service_ready(cache: str | None = None, configuration: Configuration = None) -> dict[str, Any]:
    """/health/ready answers 200 (and reports the cache as `cache`, e.g. "degraded", if set)."""
    context = resolve(configuration)
    with http_client() as client:
        status, body = _ready(client, context.base_url)
    checks = body.get("checks", {})
    held = status == 200 and (cache is None or checks.get("cache") == cache)
    return verdict(
        held, f"readiness answered {status} with checks {checks}", status=status, checks=checks
    )


@boundary
def readiness_becomes(
    status: int, within_s: float = 10.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Poll /health/ready until it answers `status`; held if it does within `within_s`."""
    context = resolve(configuration)
    started = time.monotonic()
    seen = 0
    with http_client() as client:
        while time.monotonic() - started < within_s:
            seen, _ = _ready(client, context.base_url)
            if seen == status:
                return verdict(True, "", after_s=round(time.monotonic() - started, 2))
            time.sleep(POLL_S)
    return verdict(False, f"readiness still {seen}, not {status}, after {within_s:.0f} s")


@boundary
def readiness_recovers_within(
    after_event: str = "postgres_started",
    within_s: float = 10.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Readiness is 200 within `within_s` of the last `after_event` (e.g. the database back)."""
    context = resolve(configuration)
    events = context.events(after_event)
    if not events:
        return verdict(False, f"event {after_event!r} never happened")
    deadline = events[-1] + within_s
    with http_client() as client:
        while True:
            status, _ = _ready(client, context.base_url)
            now = time.time()
            if status == 200:
                took = round(now - events[-1], 2)
                return verdict(
                    now <= deadline,
                    f"ready only {took} s after {after_event}",
                    recovered_after_s=took,
                )
            if now > deadline:
                return verdict(False, f"not ready {within_s:.0f} s after {after_event} ({status})")
            time.sleep(POLL_S)


@boundary
def stock_never_negative(configuration: Configuration = None) -> dict[str, Any]:
    """No product has negative stock."""
    context = resolve(configuration)
    with http_client() as client:
        return invariants.stock_never_negative(context, client)


@boundary
def stock_conserved(configuration: Configuration = None) -> dict[str, Any]:
    """Initial stock = stock on hand + units in live orders, for every product (database)."""
    return invariants.stock_conserved(resolve(configuration))


@boundary
def acknowledged_orders_exist(configuration: Configuration = None) -> dict[str, Any]:
    """Every order acknowledged with a 2xx during the experiments still exists."""
    context = resolve(configuration)
    with http_client() as client:
        return invariants.acknowledged_orders_exist(context, client)


@boundary
def one_capture_per_order(configuration: Configuration = None) -> dict[str, Any]:
    """At most one capture (succeeded charge) per order."""
    context = resolve(configuration)
    with http_client() as client:
        return invariants.one_capture_per_order(context, client)


@boundary
def no_confirmed_without_capture(configuration: Configuration = None) -> dict[str, Any]:
    """No confirmed order lacks a capture."""
    context = resolve(configuration)
    with http_client() as client:
        return invariants.no_confirmed_without_capture(context, client)
