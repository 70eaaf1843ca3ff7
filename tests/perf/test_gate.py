"""The SLO gate alone: statistics in, verdicts, weights and reasons out (no Locust, no I/O)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assay.catalog import Catalog, load_catalog
from assay.coverage import Standing, requirement_standing
from assay.record import Run, RunRecord
from assay.summary import Verdict
from perf import summary as perf_summary
from perf.config import ShapeConfig, Stage, load_config
from perf.gate import (
    CACHE_HIT,
    CHECKOUT,
    ERRORS,
    LATENCY,
    MIN_LATENCY_SAMPLES,
    SERVER_ERRORS,
    GroupStats,
    evaluate,
    generator_overloaded,
    min_error_samples,
    percentile,
    pool,
    undelivered,
)
from perf.metrics import CACHE_SAMPLE, hit_ratio

pytestmark = pytest.mark.req("REQ-PERF-001")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The real catalog: thresholds come from nowhere else."""
    return load_catalog()


def group(
    name: str,
    latency_ms: int = 20,
    requests: int = 100,
    failures: int = 0,
    method: str = "GET",
    server_errors: int | None = None,
    slow: int = 0,
    slow_ms: int = 0,
) -> GroupStats:
    """A group whose requests took `latency_ms`, except `slow` of them that took `slow_ms`.

    Its failures are error answers (5xx) unless `server_errors` says how many of them are."""
    histogram = {latency_ms: requests - slow}
    if slow:
        histogram[slow_ms] = slow
    errors = failures if server_errors is None else server_errors
    return GroupStats(method, name, requests, failures, histogram, errors)


def healthy() -> list[GroupStats]:
    """A run comfortably inside every SLO."""
    return [
        group("browse /products", 10, 500),
        group("product /products/{id}", 8, 300),
        group("checkout /orders", 40, 200, method="POST"),
    ]


def by_scope(result_slos: list, slo_id: str) -> dict:
    return {r.scope: r for r in result_slos if r.id == slo_id}


def test_percentile_is_nearest_rank_on_the_histogram() -> None:
    histogram = {10: 90, 200: 9, 900: 1}
    assert percentile(histogram, 0.90) == 10
    assert percentile(histogram, 0.95) == 200
    assert percentile(histogram, 0.999) == 900
    assert percentile({}, 0.95) is None


def test_pool_merges_histograms_bucket_by_bucket() -> None:
    pooled = pool(
        [group("a /x", 10, 10, failures=1, server_errors=0), group("b /y", 10, 5, server_errors=2)]
    )
    assert (pooled.requests, pooled.failures, pooled.server_errors) == (15, 1, 2)
    assert pooled.response_times == {10: 15}


def test_a_healthy_run_passes_with_full_score(catalog: Catalog) -> None:
    result = evaluate(healthy(), catalog)
    assert result.verdict is Verdict.PASS
    assert result.score == 100.0
    assert result.reasons == []
    assert result.exit_code == 0
    assert result.requests == 1000


def test_fast_answers_at_a_lower_rate_than_asked_fail_and_say_so_first(catalog: Catalog) -> None:
    shortfall = "load not delivered: the sustained shape asked 300 RPS, 105 RPS were sent"
    result = undelivered(evaluate(healthy(), catalog), shortfall)
    assert result.verdict is Verdict.FAIL
    assert result.exit_code == 1
    assert result.reasons[0] == shortfall
    assert result.score == 100.0  # the SLOs stay as measured
    assert undelivered(evaluate(healthy(), catalog), "") == evaluate(healthy(), catalog)
    nothing = evaluate([], catalog)
    assert undelivered(nothing, shortfall).verdict is Verdict.ERROR  # no load is no judgement


def test_thresholds_and_scopes_come_from_the_catalog(catalog: Catalog) -> None:
    result = evaluate(healthy(), catalog)
    latency = by_scope(result.slos, LATENCY)
    assert latency[None].objective == catalog.slo(LATENCY).objective
    assert {"journey:checkout", "POST checkout /orders", "GET browse /products"} <= set(latency)
    assert by_scope(result.slos, CHECKOUT)["checkout"].observed == 100.0


def test_one_slow_endpoint_group_fails_the_key_latency_slo(catalog: Catalog) -> None:
    stats = [
        *healthy()[:2],
        group("checkout /orders", 40, 200, method="POST", slow=20, slow_ms=600),
    ]
    result = evaluate(stats, catalog)
    assert result.verdict is Verdict.FAIL
    assert result.exit_code == 1
    assert by_scope(result.slos, LATENCY)["POST checkout /orders"].verdict is Verdict.FAIL
    assert by_scope(result.slos, LATENCY)[None].verdict is Verdict.PASS  # hidden in the total
    assert result.reasons[0] == (
        "SLO-LATENCY-P95 (key SLO) FAIL for POST checkout /orders: "
        "request latency p95 600 ms, objective < 300 ms"
    )


def test_latency_between_warning_and_objective_warns(catalog: Catalog) -> None:
    slo = catalog.slo(LATENCY)
    assert slo.warning is not None
    between = int((slo.warning + slo.objective) / 2)
    result = evaluate([group("browse /products", between, 200)], catalog)
    assert result.verdict is Verdict.WARNING
    assert result.exit_code == 0
    total = sum(catalog.slo(i).weight for i in (LATENCY, ERRORS, SERVER_ERRORS))
    assert result.score == pytest.approx(round(100 * (total - slo.weight / 2) / total, 1))
    assert any(
        "WARNING" in reason and "warning level < 250 ms" in reason for reason in result.reasons
    )


def test_a_missed_non_key_slo_lowers_the_score_without_failing_outright(catalog: Catalog) -> None:
    assert not catalog.slo(SERVER_ERRORS).key
    # 0.7 % server errors: within the key 1 % error objective, past the 0.5 % API objective.
    stats = [group("browse /products", 10, 1000, failures=7, server_errors=7)]
    result = evaluate(stats, catalog)
    assert by_scope(result.slos, SERVER_ERRORS)[None].verdict is Verdict.FAIL
    assert by_scope(result.slos, ERRORS)[None].verdict is Verdict.PASS
    weights = {i: catalog.slo(i).weight for i in (LATENCY, ERRORS, SERVER_ERRORS)}
    expected = 100 * (weights[LATENCY] + weights[ERRORS]) / sum(weights.values())
    assert result.score == pytest.approx(round(expected, 1))
    assert result.verdict is (Verdict.WARNING if expected >= 75 else Verdict.FAIL)


def test_errors_in_one_group_fail_the_key_error_slo(catalog: Catalog) -> None:
    stats = [*healthy(), group("cart /cart", 10, 50, failures=5)]
    result = evaluate(stats, catalog)
    assert result.verdict is Verdict.FAIL
    assert by_scope(result.slos, ERRORS)["GET cart /cart"].observed == 10.0
    assert "SLO-ERROR-RATE (key SLO) FAIL for GET cart /cart" in result.reasons[0]


def test_the_error_slos_count_error_answers_as_prometheus_does(catalog: Catalog) -> None:
    # 5 of 150 cart requests refused with a 4xx, none answered 5xx: Prometheus sees no error,
    # and neither do the SLOs; the run still fails, because its own requests were refused.
    stats = [*healthy(), group("cart /cart", 10, 150, failures=5, server_errors=0)]
    result = evaluate(stats, catalog)
    assert by_scope(result.slos, ERRORS)["GET cart /cart"].observed == 0.0
    assert by_scope(result.slos, ERRORS)["GET cart /cart"].verdict is Verdict.PASS
    assert result.verdict is Verdict.FAIL
    assert result.reasons[0].startswith("5 requests failed without an error answer")
    assert result.reasons[0].endswith("in GET cart /cart (5)")


def test_refused_checkouts_are_no_checkout_errors(catalog: Catalog) -> None:
    # A decline or a rate limit (4xx) is the client's, in the alert rules and here alike.
    stats = [*healthy()[:2], group("checkout /orders", 40, 150, 3, "POST", server_errors=0)]
    result = evaluate(stats, catalog)
    assert by_scope(result.slos, CHECKOUT)["checkout"].observed == 100.0
    assert "without an error answer" in result.reasons[0]


def test_failed_checkouts_fail_the_checkout_success_slo(catalog: Catalog) -> None:
    # 1 of 150 checkouts failed (99.33 %): below 99.5 %, and the error rate stays under 1 %.
    stats = [*healthy()[:2], group("checkout /orders", 40, 150, failures=1, method="POST")]
    result = evaluate(stats, catalog)
    checkout = by_scope(result.slos, CHECKOUT)["checkout"]
    assert checkout.observed == pytest.approx(99.333, abs=0.001)
    assert checkout.verdict is Verdict.FAIL
    assert result.verdict is Verdict.FAIL


def test_sparse_groups_report_latency_without_being_judged_by_it(catalog: Catalog) -> None:
    sparse = group("admin /admin/flags", 900, MIN_LATENCY_SAMPLES - 1)
    result = evaluate([*healthy(), sparse], catalog)
    admin = by_scope(result.slos, LATENCY)["GET admin /admin/flags"]
    assert admin.observed == 900
    assert admin.verdict is Verdict.SKIPPED
    assert result.verdict is Verdict.PASS


def test_one_error_in_a_sparse_group_is_reported_but_does_not_decide_it(
    catalog: Catalog,
) -> None:
    needed = min_error_samples(catalog.slo(ERRORS))
    assert needed == 101  # one error in 101 requests is 0.99 %, under the 1 % objective
    # One failure in four admin requests is 25 %: shown, not judged on its own.
    unlucky = group("admin /admin/flags", 20, 4, failures=1)
    result = evaluate([*healthy(), unlucky], catalog)
    admin = by_scope(result.slos, ERRORS)["GET admin /admin/flags"]
    assert admin.observed == 25.0
    assert admin.verdict is Verdict.SKIPPED
    assert result.verdict is Verdict.PASS
    # Two errors in the same few requests are no longer one unlucky request.
    broken = group("admin /admin/flags", 20, 4, failures=2)
    result = evaluate([*healthy(), broken], catalog)
    assert by_scope(result.slos, ERRORS)["GET admin /admin/flags"].verdict is Verdict.FAIL
    assert result.verdict is Verdict.FAIL
    # One error is judged from the count at which it alone meets the objective, and no
    # error is judged in any count.
    short = group("admin /admin/flags", 20, needed - 1, failures=1)
    result = evaluate([*healthy(), short], catalog)
    assert by_scope(result.slos, ERRORS)["GET admin /admin/flags"].verdict is Verdict.SKIPPED
    clean = group("admin /admin/flags", 20, 4)
    result = evaluate([*healthy(), clean], catalog)
    assert by_scope(result.slos, ERRORS)["GET admin /admin/flags"].verdict is Verdict.PASS
    judged = group("admin /admin/flags", 20, needed, failures=1)
    result = evaluate([*healthy(), judged], catalog)
    # 0.99 %: under the 1 % objective, past its 0.8 % warning level.
    assert by_scope(result.slos, ERRORS)["GET admin /admin/flags"].verdict is Verdict.WARNING


def test_no_checkouts_skips_the_checkout_slo_and_leaves_it_out_of_the_score(
    catalog: Catalog,
) -> None:
    result = evaluate([group("browse /products", 10, 100)], catalog)
    assert by_scope(result.slos, CHECKOUT)["checkout"].verdict is Verdict.SKIPPED
    assert result.score == 100.0


def test_no_requests_cannot_be_judged(catalog: Catalog) -> None:
    result = evaluate([group("browse /products", 10, 0)], catalog)
    assert result.verdict is Verdict.ERROR
    assert result.exit_code == 2
    assert result.reasons == ["no requests were made: nothing to judge"]


def test_cache_hit_ratio_from_the_targets_counters_is_judged_but_not_key(catalog: Catalog) -> None:
    exposition = (
        'cache_requests_total{cache="catalog",result="hit"} 70.0\n'
        'cache_requests_total{cache="catalog",result="miss"} 30.0\n'
        'http_requests_total{method="GET",route="/products/{product_id}",status="200"} 5.0\n'
    )
    before = (0.0, 0.0)
    after = tuple(float(m["value"]) for m in CACHE_SAMPLE.finditer(exposition))
    ratio = hit_ratio(before, after)  # type: ignore[arg-type]
    assert ratio == 70.0
    assert hit_ratio(before, before) is None  # no lookups: nothing to judge
    result = evaluate(healthy(), catalog, cache_hit_ratio=ratio)
    cache = by_scope(result.slos, CACHE_HIT)["catalog cache"]
    assert cache.verdict is Verdict.FAIL
    assert not catalog.slo(CACHE_HIT).key
    assert result.verdict is not Verdict.FAIL  # a non-key miss only lowers the score
    assert result.score is not None
    assert result.score < 100.0


def test_an_slo_the_shape_leaves_unjudged_is_shown_unjudged_with_why(catalog: Catalog) -> None:
    why = "this traffic cannot say"
    result = evaluate(healthy(), catalog, cache_hit_ratio=60.0, unjudged={CACHE_HIT: why})
    cache = by_scope(result.slos, CACHE_HIT)["catalog cache"]
    assert cache.verdict is Verdict.UNJUDGED  # not "skipped", as if nothing was measured
    assert cache.observed == 60.0  # still measured and reported
    assert result.verdict is Verdict.PASS
    assert result.score == 100.0  # out of the score, not counted as a pass
    assert result.notes == [f"{CACHE_HIT} not judged for this shape: {why}"]
    assert not result.reasons


def test_unjudged_must_name_an_slo_the_gate_judges(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="SLO-NOT-THERE"):
        evaluate(healthy(), catalog, unjudged={"SLO-NOT-THERE": "why"})


def test_the_smoke_shape_leaves_only_the_cache_hit_ratio_unjudged(catalog: Catalog) -> None:
    config = load_config()
    assert set(config.shape("smoke").unjudged) == {CACHE_HIT}
    for name in ("sustained", "spike", "soak", "step"):
        assert not config.shape(name).unjudged, name


def test_a_shape_must_say_why_it_leaves_an_slo_unjudged() -> None:
    with pytest.raises(ValueError, match="reason"):
        ShapeConfig(stages=[Stage(rps=1, duration_s=1)], unjudged={CACHE_HIT: " "})


def test_a_missed_slo_left_unjudged_leaves_its_requirement_unjudged(catalog: Catalog) -> None:
    why = "at 20 RPS the ratio measures this traffic, not the cache"
    result = evaluate(healthy(), catalog, cache_hit_ratio=68.8, unjudged={CACHE_HIT: why})
    made = perf_summary.checks(result, healthy(), "smoke", catalog)
    by_id = {c.id: c for c in made}
    assert by_id["perf/smoke::product"].verdict is Verdict.PASS
    assert "REQ-CAT-002" not in by_id["perf/smoke::product"].requirements
    held = by_id[f"perf/smoke::{CACHE_HIT}"]
    assert held.verdict is Verdict.SKIPPED
    assert held.requirements == ["REQ-CAT-002"]
    assert held.message is not None
    assert "catalog cache 68.8 percent against 85" in held.message
    summary = perf_summary.build(
        result, healthy(), catalog, shape="smoke", started_at=0.0, metrics={"shape": "smoke"}
    )
    record = RunRecord(run_id="20261126T060000Z-abcdef", started_at=summary.started_at)
    run = Run(path=Path("/nonexistent"), record=record, summaries={"perf": summary})
    standing = requirement_standing(run, catalog, "REQ-CAT-002")
    assert standing.standing is Standing.UNJUDGED  # not a pass on a 68.8 % hit ratio
    assert "unjudged: measured catalog cache 68.8" in standing.reason


def test_a_generator_over_its_cpu_limit_fails_the_run_with_that_reason(catalog: Catalog) -> None:
    calm = SimpleNamespace(cpu_warning_emitted=False, worker_cpu_warning_emitted=False)
    assert generator_overloaded(calm) == ""
    for flag in ("cpu_warning_emitted", "worker_cpu_warning_emitted"):
        busy = SimpleNamespace(**{**vars(calm), flag: True})
        reason = generator_overloaded(busy)
        assert "load generator overloaded" in reason
        result = undelivered(evaluate(healthy(), catalog), reason)
        assert result.verdict is Verdict.FAIL
        assert result.reasons[0] == reason
