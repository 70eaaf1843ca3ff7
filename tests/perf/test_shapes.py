"""Pacing and load shapes: target throughput turned into users, arrivals spread out.

Pure modules only: importing Locust would monkey-patch this pytest process with gevent.
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
from collections.abc import Callable

import pytest

from assay.catalog import load_catalog
from perf.config import PerfConfigError, Stage, load_config, users_for
from perf.gate import GroupStats, percentile, pool
from perf.pacing import MAX_LAG_S, PoissonPacer
from perf.plan import (
    REQUESTS_PER_JOURNEY,
    ShapePlan,
    StepSearch,
    requests_per_iteration,
    spawn_rate,
    stage_at,
)

pytestmark = pytest.mark.req("REQ-PERF-001", "REQ-PERF-002")


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_packaged_profiles_define_every_shape_the_issue_names() -> None:
    config = load_config(environ={})
    assert set(config.shapes) >= {"smoke", "sustained", "spike", "soak", "step"}
    assert config.shape("smoke").duration_s <= 60
    assert [s.rps for s in config.shape("sustained").plan()] == [300]
    assert config.shape("sustained").duration_s == 300
    assert [s.rps for s in config.shape("spike").plan()] == [300, 600, 300]
    assert set(config.journeys) <= set(REQUESTS_PER_JOURNEY)
    with pytest.raises(PerfConfigError, match="no load shape 'nope'"):
        config.shape("nope")


def test_users_follow_target_throughput() -> None:
    assert users_for(300, user_rate=1.0, requests_per_iteration=1.5) == 200
    assert users_for(600, user_rate=1.0, requests_per_iteration=1.5) == 400
    assert users_for(1, user_rate=2.0, requests_per_iteration=3) == 1
    assert users_for(0, user_rate=1.0, requests_per_iteration=1) == 0


def test_requests_per_iteration_weighs_each_journey() -> None:
    config = load_config(environ={}).model_copy(update={"journeys": {"browse": 1, "product": 3}})
    assert requests_per_iteration(config) == pytest.approx((1 * 2 + 3 * 1) / 4)


def test_stages_run_in_order_and_end() -> None:
    stages = [Stage(rps=300, duration_s=60), Stage(rps=600, duration_s=30)]
    assert stage_at(stages, 0) == 0
    assert stage_at(stages, 59.9) == 0
    assert stage_at(stages, 60) == 1
    assert stage_at(stages, 89.9) == 1
    assert stage_at(stages, 90) is None


def test_spawn_rate_spreads_a_change_over_the_ramp() -> None:
    assert spawn_rate(0, 200, ramp_s=5) == 40
    assert spawn_rate(400, 200, ramp_s=5) == 40
    assert spawn_rate(10, 10, ramp_s=5) == 1


def test_step_plan_climbs_to_the_maximum() -> None:
    step = load_config(environ={}).shape("step").step
    assert step is not None
    plan = step.stages()
    assert plan[0].rps == step.start_rps
    assert all(b.rps - a.rps == step.increment_rps for a, b in itertools.pairwise(plan))
    assert plan[-1].rps <= step.max_rps


def test_pacer_arrivals_are_poisson_at_the_configured_rate() -> None:
    clock = FakeClock()
    pacer = PoissonPacer(rate=4.0, rng=random.Random(7), clock=clock)
    first = pacer.first_delay()
    gaps = []
    for _ in range(4000):
        gaps.append(pacer.wait())
        clock.now += gaps[-1]  # the journey itself takes no time here
    assert first > 0
    assert statistics.fmean(gaps) == pytest.approx(0.25, rel=0.05)
    # Exponential gaps: standard deviation equals the mean (a fixed pace would have none).
    assert statistics.pstdev(gaps) == pytest.approx(0.25, rel=0.1)


def test_users_started_together_do_not_fire_in_lockstep() -> None:
    clock = FakeClock()
    starts = sorted(
        PoissonPacer(1.0, random.Random(seed), clock).first_delay() for seed in range(200)
    )
    # 200 users spawned in the same instant: no 10 ms window holds more than 5 % of them.
    busiest = max(sum(1 for t in starts if s <= t < s + 0.01) for s in starts)
    assert busiest <= 10
    assert max(starts) - min(starts) > 2.0


def test_pacer_keeps_its_rate_while_journeys_take_time() -> None:
    clock = FakeClock()
    pacer = PoissonPacer(rate=2.0, rng=random.Random(3), clock=clock)
    pacer.first_delay()
    started = clock.now
    for _ in range(2000):
        clock.now += 0.2  # each journey takes 200 ms
        clock.now += pacer.wait()
    assert 2000 / (clock.now - started) == pytest.approx(2.0, rel=0.05)


def test_a_stalled_user_does_not_burst_to_catch_up() -> None:
    clock = FakeClock()
    pacer = PoissonPacer(rate=10.0, rng=random.Random(1), clock=clock)
    pacer.first_delay()
    clock.now += 30  # the service stalled for 30 s
    pacer.wait()
    assert pacer.next_at is not None
    assert clock.now - pacer.next_at <= MAX_LAG_S


def _snapshot(requests: int, latency_ms: int, failures: int = 0) -> list[GroupStats]:
    return [GroupStats("GET", "browse /products", requests, failures, {latency_ms: requests})]


def test_step_search_stops_at_the_first_step_that_misses_a_key_slo() -> None:
    search = StepSearch(load_catalog())
    assert search.finish_step(Stage(rps=100, duration_s=10), _snapshot(1000, 20))
    # Cumulative statistics: the second step adds 2000 requests at 40 ms.
    second = [GroupStats("GET", "browse /products", 3000, 0, {20: 1000, 40: 2000})]
    assert search.finish_step(Stage(rps=200, duration_s=10), second)
    third = [GroupStats("GET", "browse /products", 6000, 0, {20: 1000, 40: 2000, 800: 3000})]
    assert not search.finish_step(Stage(rps=300, duration_s=10), third)
    assert search.knee_rps == 200
    assert search.broke
    assert search.held == second
    assert [r.p95_ms for r in search.results] == [20, 40, 800]
    assert [r.achieved_rps for r in search.results] == [100, 200, 300]
    assert [r.reason for r in search.results] == ["", "", ""]


def test_a_step_whose_load_was_not_delivered_breaks_even_with_fast_answers() -> None:
    # 200 RPS asked, 110 sent, all fast: the target kept up with a lower rate than asked, and
    # the knee must not claim 200.
    search = StepSearch(load_catalog())
    assert search.finish_step(Stage(rps=100, duration_s=30), _snapshot(3000, 5), 1.6)
    assert not search.finish_step(Stage(rps=200, duration_s=30), _snapshot(6300, 5), 1.6)
    assert search.knee_rps == 100
    assert search.results[-1].achieved_rps == 110
    assert "load not delivered" in search.results[-1].reason
    assert "asked 200 RPS, 110 RPS were sent" in search.results[-1].reason


def _sent(requests: int) -> Callable[[], list[GroupStats]]:
    return lambda: _snapshot(requests, 20)


def test_a_run_short_of_its_shape_is_named_and_a_delivered_one_is_not() -> None:
    config = load_config(environ={})
    plan = ShapePlan(config, "sustained", mean_requests=1.6, catalog=load_catalog())
    seconds = plan.stages[0].duration_s
    planned = plan.planned_requests(0)
    # The start-up ramp and first gaps lose a few seconds' worth, and no more.
    assert 300 * seconds * 0.95 < planned < 300 * seconds
    assert plan.delivery(int(planned)) == ""  # ended early: judged on what it sent so far
    assert plan.delivery(int(planned * 0.95)) == ""  # Poisson noise and a slow tick or two
    reason = plan.delivery(int(105 * seconds))
    assert "load not delivered: the sustained shape asked 300 RPS, 105 RPS were sent" in reason
    smoke = ShapePlan(config, "smoke", mean_requests=1.6, catalog=load_catalog())
    assert smoke.delivery(int(smoke.planned_requests(0) * 0.95)) == ""
    assert smoke.delivery(int(smoke.planned_requests(0) * 0.6)) != ""  # few requests: wide noise


def test_each_stage_of_a_shape_is_judged_on_its_own() -> None:
    # A spike whose peak was not delivered fails even when the run's total would pass.
    config = load_config(environ={})
    plan = ShapePlan(config, "spike", mean_requests=1.6, catalog=load_catalog())
    first, peak, last = (plan.planned_requests(i) for i in range(3))
    assert peak < 600 * 60  # the rise from 300 to 600 RPS is ramped
    sent = [int(first), int(first + peak * 0.7), int(first + peak * 0.7 + last * 1.3)]
    ticks = [0.0, 61.0, 121.0, 181.0]
    for elapsed, total in zip(ticks, [0, *sent], strict=True):
        plan.tick(elapsed, _sent(total))
    reason = plan.delivery(sent[-1])
    assert "stage 2 of the spike shape asked 600 RPS" in reason
    assert "stage 1" not in reason
    assert "stage 3" not in reason


def _took(requests: int, slow: int = 0) -> list[GroupStats]:
    """Cumulative statistics: `requests` at 20 ms, `slow` of them at 900 ms instead."""
    histogram = {20: requests - slow, **({900: slow} if slow else {})}
    return [GroupStats("GET", "browse /products", requests, 0, histogram)]


def test_a_fixed_shape_is_judged_without_its_warm_up() -> None:
    config = load_config(environ={})
    plan = ShapePlan(config, "sustained", mean_requests=1.6, catalog=load_catalog())
    warm_s = plan.warm_until_s(0)
    assert warm_s == config.ramp_s + 1 / config.user_rate
    plan.tick(0, _no_snapshot)
    # The first seconds were slow (cold caches, users starting); all 1,000 later ones fast.
    plan.tick(warm_s, lambda: _took(300, slow=300))
    assert plan.tick(plan.stages[0].duration_s, lambda: _took(1300, slow=300)) is None
    judged = plan.judged()
    assert judged is not None
    assert [(g.requests, dict(g.response_times)) for g in judged] == [(1000, {20: 1000})]
    assert plan.stage_failures() == []  # one stage: the run's own gate judges it


def test_a_spike_stage_that_breaks_its_slo_fails_even_when_the_average_holds() -> None:
    config = load_config(environ={})
    plan = ShapePlan(config, "spike", mean_requests=1.6, catalog=load_catalog())
    # Stages of 1,000 requests each after warm-up; the 600 RPS stage answered 10 % at 900 ms.
    totals = {"warm1": 100, "end1": 1100, "warm2": 1200, "end2": 2200, "warm3": 2300}
    slow = 100
    plan.tick(0, _no_snapshot)
    plan.tick(plan.warm_until_s(0), lambda: _took(totals["warm1"]))
    plan.tick(60, lambda: _took(totals["end1"]))
    plan.tick(plan.warm_until_s(1), lambda: _took(totals["warm2"]))
    plan.tick(120, lambda: _took(totals["end2"], slow=slow))
    plan.tick(plan.warm_until_s(2), lambda: _took(totals["warm3"], slow=slow))
    assert plan.tick(180, lambda: _took(3300, slow=slow)) is None
    # Over the three stages, 100 slow of 3,000 is 3.3 %: the p95 holds at 20 ms.
    judged = plan.judged()
    assert judged is not None
    assert percentile(pool(judged).response_times, 0.95) == 20
    (reason,) = plan.stage_failures()
    assert reason.startswith("stage 2 of the spike shape (600 RPS, warm-up excluded) failed")
    assert "SLO-LATENCY-P95 (key SLO) FAIL" in reason


def test_a_step_search_judges_each_step_not_the_whole_run() -> None:
    plan = ShapePlan(load_config(environ={}), "step", mean_requests=1.6, catalog=load_catalog())
    assert plan.delivery(0) == ""


def test_an_unchanged_user_count_keeps_the_ramp_rate_it_was_given() -> None:
    # Locust restarts a ramp whenever the spawn rate it is told changes: a 300 RPS run whose
    # second tick said "same users, 1 user/s" ramped at 1 user/s and sent a third of its load.
    config = load_config(environ={})
    plan = ShapePlan(config, "sustained", mean_requests=1.6, catalog=load_catalog())
    first = plan.tick(0, _no_snapshot)
    assert first is not None
    users, rate = first
    assert rate == spawn_rate(0, users, config.ramp_s) > 1
    assert [plan.tick(t, _sent(100 * t)) for t in (1, 2, 30)] == [first] * 3


def _no_snapshot() -> list[GroupStats]:
    raise AssertionError("statistics are read only when a stage or its warm-up ends")


def test_shape_plan_ticks_users_for_each_stage_then_stops() -> None:
    config = load_config(environ={})
    plan = ShapePlan(config, "spike", mean_requests=1.5, catalog=load_catalog())
    users, rate = plan.tick(0, _no_snapshot) or (0, 0.0)  # no stage has ended yet
    assert users == users_for(300, config.user_rate, 1.5)
    assert rate == pytest.approx(spawn_rate(0, users, config.ramp_s))
    peak, _ = plan.tick(61, _sent(18000)) or (0, 0.0)
    assert peak == users_for(600, config.user_rate, 1.5)
    assert (plan.tick(121, _sent(54000)) or (0, 0.0))[0] == users
    assert plan.tick(180, _sent(72000)) is None
    assert plan.report()["stages"][1] == {"rps": 600.0, "duration_s": 60.0}


def test_step_plan_stops_when_a_step_breaks_and_reports_the_knee() -> None:
    config = load_config(environ={})
    plan = ShapePlan(config, "step", mean_requests=1.5, catalog=load_catalog())
    step_s = plan.stages[0].duration_s
    # Cumulative statistics of steps that each delivered their rate.
    sent = [int(stage.rps * step_s) for stage in plan.stages[:3]]
    cumulative = {0: _snapshot(sent[0], 20), 1: _snapshot(sent[0] + sent[1], 20)}
    cumulative[2] = [
        GroupStats("GET", "browse /products", sum(sent), 0, {20: sent[0] + sent[1], 900: sent[2]})
    ]
    ticks = [plan.tick(i * step_s + 1, lambda i=i: cumulative[i - 1]) for i in range(3)]
    assert all(tick is not None for tick in ticks)
    assert plan.tick(3 * step_s + 1, lambda: cumulative[2]) is None
    report = plan.report()
    assert report["knee_rps"] == plan.stages[1].rps
    assert report["slo_broke"] is True
    assert [s["verdict"] for s in report["steps"]] == ["pass", "pass", "fail"]
    assert plan.search is not None
    assert plan.search.held == cumulative[1]


def test_these_tests_never_import_locust() -> None:
    assert "locust" not in sys.modules
