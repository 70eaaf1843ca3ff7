"""The SLO gate: per-endpoint-group statistics in, SLO verdicts and a weighted score out.

Thresholds, warning levels, weights and which SLOs are key all come from the catalog.
Objectives are judged per endpoint group, per journey and overall, in the manner of k6
thresholds or Gatling assertions; the verdict is scored in the manner of a Keptn quality
gate: pass = full weight, warning = half, fail = none; a missed key SLO fails the run
outright, otherwise the total score decides (pass from 90 %, warning from 75 %).
This module is pure: it imports neither Locust nor anything that does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from assay.catalog import Catalog, Slo
from assay.summary import SloResult, Verdict

LATENCY = "SLO-LATENCY-P95"
ERRORS = "SLO-ERROR-RATE"
SERVER_ERRORS = "SLO-API-ERROR-RATE"
CHECKOUT = "SLO-CHECKOUT-SUCCESS"
CACHE_HIT = "SLO-CACHE-HIT"
GATED_SLOS = (LATENCY, ERRORS, SERVER_ERRORS, CHECKOUT, CACHE_HIT)
# Keptn's default total-score levels: scoring policy, not SLO thresholds.
PASS_SCORE = 90.0
WARNING_SCORE = 75.0
# A p95 of fewer samples is just the slowest request: report it, but do not judge a group by it.
MIN_LATENCY_SAMPLES = 20
CHECKOUT_METHOD, CHECKOUT_PATH = "POST", "/orders"
_POINTS = {Verdict.PASS: 1.0, Verdict.WARNING: 0.5, Verdict.FAIL: 0.0}
_SEVERITY = {
    Verdict.UNJUDGED: 0,
    Verdict.SKIPPED: 0,
    Verdict.PASS: 1,
    Verdict.WARNING: 2,
    Verdict.FAIL: 3,
}


@dataclass(frozen=True)
class GroupStats:
    """One endpoint group (Locust's name + method): counts and its latency histogram (ms)."""

    method: str
    name: str  # "<journey> <path template>", e.g. "checkout /orders"
    requests: int
    failures: int
    response_times: Mapping[int, int]
    # Answers that are errors by the catalog's `errors:` (5xx), and requests with no answer:
    # the error SLOs count these, as the alert rules do. Other failures are the plan's.
    server_errors: int = 0

    @property
    def journey(self) -> str:
        """The journey that sent these requests."""
        return self.name.split(" ", 1)[0]

    @property
    def path(self) -> str:
        """The endpoint's path template."""
        return self.name.split(" ", 1)[1] if " " in self.name else self.name

    @property
    def label(self) -> str:
        """How reports name the group."""
        return f"{self.method} {self.name}"


@dataclass(frozen=True)
class Pooled:
    """Several groups added together."""

    requests: int
    failures: int
    server_errors: int
    response_times: Mapping[int, int]


def pool(groups: Iterable[GroupStats]) -> Pooled:
    """Add groups up (histograms merged bucket by bucket)."""
    histogram: dict[int, int] = {}
    requests = failures = server_errors = 0
    for group in groups:
        requests += group.requests
        failures += group.failures
        server_errors += group.server_errors
        for bucket, count in group.response_times.items():
            histogram[bucket] = histogram.get(bucket, 0) + count
    return Pooled(requests, failures, server_errors, histogram)


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """Nearest-rank percentile of a {milliseconds: count} histogram; None when empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, -(-int(total * fraction * 1000) // 1000))  # ceil without float drift
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return float(bucket)
    return float(max(histogram))


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 3)


def judge(slo: Slo, observed: float | None) -> Verdict:
    """Pass, warning (met, but past the warning level) or fail; skipped without data."""
    if observed is None:
        return Verdict.SKIPPED
    if not slo.met(observed):
        return Verdict.FAIL
    return Verdict.PASS if slo.comfortable(observed) else Verdict.WARNING


@dataclass
class GateResult:
    """What the gate concluded and why."""

    verdict: Verdict
    score: float | None
    slos: list[SloResult]
    reasons: list[str] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    notes: list[str] = field(default_factory=list)  # SLOs left unjudged, and why

    @property
    def exit_code(self) -> int:
        """Locust's process exit code: 0 for pass or warning, 1 for fail, 2 unjudged."""
        return {Verdict.PASS: 0, Verdict.WARNING: 0, Verdict.FAIL: 1}.get(self.verdict, 2)


def undelivered(gate: GateResult, shortfall: str) -> GateResult:
    """The gate's result when the run did not deliver its shape's load: a fail, said first.

    The SLO results stay as measured; the verdict cannot pass, since they were measured at a
    lower rate than the one asked.
    """
    return fail_with(gate, shortfall)


def fail_with(gate: GateResult, reason: str) -> GateResult:
    """The gate's result failed for `reason`, said first ('' leaves it as it is)."""
    if not reason or gate.verdict is Verdict.ERROR:
        return gate
    return replace(gate, verdict=Verdict.FAIL, reasons=[reason, *gate.reasons])


def generator_overloaded(runner: object) -> str:
    """Why the run's response times measure the load generator ('' when they do not): Locust
    warns when a process of its own (or a worker) passed 90 % CPU, and a starved generator
    sends late and times late."""
    if getattr(runner, "cpu_warning_emitted", False) or getattr(
        runner, "worker_cpu_warning_emitted", False
    ):
        return (
            "load generator overloaded: a Locust process went above 90 % CPU, so its rate and "
            "response times are not the target's (add workers: ASSAY_PERF_WORKERS)"
        )
    return ""


def _scopes(groups: list[GroupStats]) -> list[tuple[str | None, Pooled]]:
    scopes: list[tuple[str | None, Pooled]] = [(None, pool(groups))]
    for journey in sorted({g.journey for g in groups}):
        scopes.append((f"journey:{journey}", pool(g for g in groups if g.journey == journey)))
    for group in sorted(groups, key=lambda g: g.label):
        scopes.append((group.label, pool([group])))
    return scopes


def _result(slo: Slo, observed: float | None, scope: str | None, verdict: Verdict) -> SloResult:
    return SloResult(
        id=slo.id,
        objective=slo.objective,
        unit=slo.unit,
        observed=observed,
        verdict=verdict,
        scope=scope,
    )


def _latency(slo: Slo, scopes: list[tuple[str | None, Pooled]]) -> list[SloResult]:
    results = []
    for scope, stats in scopes:
        p95 = percentile(stats.response_times, 0.95)
        enough = scope is None or stats.requests >= MIN_LATENCY_SAMPLES
        results.append(_result(slo, p95, scope, judge(slo, p95) if enough else Verdict.SKIPPED))
    return results


def min_error_samples(slo: Slo) -> int:
    """The fewest requests in which one error still meets an error-rate objective.

    In a smaller group (or journey) one unlucky request would be the whole verdict (one
    failure in four admin requests is 25 %): there a single error leaves the scope unjudged,
    its rate reported and still counted in the run as a whole. No error, or two and more,
    are judged as they are.
    """
    if slo.objective <= 0:
        return 1  # no error is allowed: one breaks it in any count
    count = max(1, math.floor(100.0 / slo.objective))
    return count if slo.met(100.0 / count) else count + 1


def _error_rate(slo: Slo, scopes: list[tuple[str | None, Pooled]]) -> list[SloResult]:
    results = []
    needed = min_error_samples(slo)
    for scope, stats in scopes:
        rate = _percent(stats.server_errors, stats.requests)
        enough = scope is None or stats.requests >= needed or stats.server_errors != 1
        results.append(_result(slo, rate, scope, judge(slo, rate) if enough else Verdict.SKIPPED))
    return results


def _server_errors(slo: Slo, scopes: list[tuple[str | None, Pooled]]) -> list[SloResult]:
    _, overall = scopes[0]
    rate = _percent(overall.server_errors, overall.requests)
    return [_result(slo, rate, None, judge(slo, rate))]


def _checkout(slo: Slo, groups: list[GroupStats]) -> list[SloResult]:
    checkouts = pool(g for g in groups if (g.method, g.path) == (CHECKOUT_METHOD, CHECKOUT_PATH))
    success = _percent(checkouts.requests - checkouts.server_errors, checkouts.requests)
    return [_result(slo, success, "checkout", judge(slo, success))]


def _reason(slo: Slo, result: SloResult) -> str:
    where = result.scope or "overall"
    comparison = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}[slo.comparison]
    unit = "ms" if slo.unit == "ms" else "%"
    level = (
        f"objective {comparison} {slo.objective:g} {unit}"
        if result.verdict is Verdict.FAIL
        else f"warning level {comparison} {slo.warning:g} {unit}"
    )
    key = " (key SLO)" if slo.key and result.verdict is Verdict.FAIL else ""
    return (
        f"{slo.id}{key} {result.verdict.upper()} for {where}: "
        f"{slo.title.lower()} {result.observed:g} {unit}, {level}"
    )


def _not_errors(groups: list[GroupStats]) -> str:
    """Why the run is void when requests failed on a 4xx or a journey's check ('' if none).

    The error SLOs count what Prometheus counts (the catalog's `errors:`); a request the load
    generator itself made wrong (refused, rate-limited, a replay that was not one) is no SLO
    miss, but the run's figures do not measure what the shape asked for either.
    """
    failed = {g.label: g.failures - g.server_errors for g in groups}
    failed = {label: n for label, n in failed.items() if n > 0}
    if not failed:
        return ""
    where = ", ".join(f"{label} ({n})" for label, n in sorted(failed.items()))
    return (
        f"{sum(failed.values())} requests failed without an error answer (a 4xx or a journey's "
        f"own check), which no SLO counts: the load plan or the service's contract is broken, "
        f"in {where}"
    )


def _cache_hit(slo: Slo, ratio: float | None) -> list[SloResult]:
    return [_result(slo, ratio, "catalog cache", judge(slo, ratio))]


def check_unjudged(unjudged: Mapping[str, str], catalog: Catalog) -> None:
    """Every SLO a shape leaves unjudged is one the gate judges (ValueError otherwise)."""
    unknown = sorted(set(unjudged) - (set(GATED_SLOS) & set(catalog.slos)))
    if unknown:
        raise ValueError(f"unjudged names SLOs the gate does not judge: {', '.join(unknown)}")


def evaluate(
    groups: Iterable[GroupStats],
    catalog: Catalog,
    cache_hit_ratio: float | None = None,
    unjudged: Mapping[str, str] | None = None,
) -> GateResult:
    """Judge the statistics against the catalog's SLOs; verdict, score and readable reasons.

    `cache_hit_ratio` (percent, from the target's own metrics) is judged when known. SLOs in
    `unjudged` (id -> why) are measured and reported as unjudged, and the why kept as a note.
    """
    unjudged = unjudged or {}
    check_unjudged(unjudged, catalog)
    stats = [g for g in groups if g.requests > 0]
    overall = pool(stats)
    if overall.requests == 0:
        return GateResult(Verdict.ERROR, None, [], ["no requests were made: nothing to judge"])
    scopes = _scopes(stats)
    judges: dict[str, Callable[[Slo], list[SloResult]]] = {
        LATENCY: lambda slo: _latency(slo, scopes),
        ERRORS: lambda slo: _error_rate(slo, scopes),
        SERVER_ERRORS: lambda slo: _server_errors(slo, scopes),
        CHECKOUT: lambda slo: _checkout(slo, stats),
        CACHE_HIT: lambda slo: _cache_hit(slo, cache_hit_ratio),
    }
    results: list[SloResult] = []
    reasons: list[str] = []
    notes: list[str] = []
    earned = possible = 0.0
    key_missed = False
    for slo_id in GATED_SLOS:
        if slo_id not in catalog.slos:
            continue
        slo = catalog.slo(slo_id)
        judged = judges[slo_id](slo)
        if slo_id in unjudged:
            results.extend(r.model_copy(update={"verdict": Verdict.UNJUDGED}) for r in judged)
            notes.append(f"{slo_id} not judged for this shape: {unjudged[slo_id]}")
            continue
        results.extend(judged)
        worst = max((r.verdict for r in judged), key=_SEVERITY.__getitem__)
        if worst is Verdict.SKIPPED:
            continue
        earned += slo.weight * _POINTS[worst]
        possible += slo.weight
        key_missed |= slo.key and worst is Verdict.FAIL
        reasons.extend(
            _reason(slo, r) for r in judged if r.verdict in {Verdict.FAIL, Verdict.WARNING}
        )
    score = round(100.0 * earned / possible, 1) if possible else None
    if score is None:
        verdict = Verdict.ERROR
    elif key_missed:
        verdict = Verdict.FAIL
    elif score >= PASS_SCORE:
        verdict = Verdict.PASS
    elif score >= WARNING_SCORE:
        verdict = Verdict.WARNING
    else:
        verdict = Verdict.FAIL
    reasons.sort(key=lambda text: (" FAIL " not in text, text))
    if broken := _not_errors(stats):
        verdict = Verdict.FAIL if verdict is not Verdict.ERROR else verdict
        reasons.insert(0, broken)
    return GateResult(verdict, score, results, reasons, overall.requests, overall.failures, notes)
