"""Shape planning, pure: target throughput over time -> user counts; the step search's knee.

Users are paced (each a Poisson process of `user_rate` journeys/s), so a target RPS maps to a
user count: users = rps / (user_rate x mean requests per journey). The `step` shape judges
each finished step against the catalog's key SLOs and stops at the first that misses them;
the knee is the last step that held. Locust is not imported here (see `perf.shapes`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assay.catalog import Catalog
from assay.summary import Verdict
from perf.config import MAX_ACCOUNTS, PerfConfig, Stage, users_for
from perf.gate import ERRORS, LATENCY, GroupStats, evaluate

# A stage delivered its load when it sent at least this share of its planned requests, less
# three standard deviations of a paced count (Poisson arrivals of whole journeys).
DELIVERED_SHARE = 0.95

# Requests one run of each journey sends (perf.journeys implements them; pacing needs this).
REQUESTS_PER_JOURNEY: dict[str, float] = {
    "browse": 2,  # a page, then the next
    "search": 1,
    "product": 1,
    "cart": 3,  # put, look, remove
    "checkout": 1.05,  # 5 % deliberate same-key retries (profiles.yaml retry_share)
    "history": 2,  # list, then the newest order
    "cancel": 2,  # order, then cancel it
    "login": 1,
    "admin": 1,
}


def requests_per_iteration(config: PerfConfig, admin_known: bool = True) -> float:
    """Mean requests one iteration sends, by the configured journey weights."""
    weights = config.weights(set(REQUESTS_PER_JOURNEY))
    if not admin_known:
        weights.pop("admin", None)
    total = sum(weights.values())
    return sum(w * REQUESTS_PER_JOURNEY[name] for name, w in weights.items()) / total


# Journeys that place orders, and the POST /orders one run sends beyond its first (a same-key
# retry counts too: a target checks its per-account order limit before it replays).
ORDERING_JOURNEYS = ("checkout", "cancel")
# No account is planned above this share of the target's per-account order limit (Poisson
# arrivals bunch: a minute's count runs well over its mean now and then).
ORDER_LIMIT_SHARE = 0.8


class PlanError(Exception):
    """The shape cannot run as configured against the target's limits."""


def orders_per_iteration(config: PerfConfig, admin_known: bool = True) -> float:
    """Mean POST /orders one iteration sends, by the configured journey weights."""
    weights = config.weights(set(REQUESTS_PER_JOURNEY))
    if not admin_known:
        weights.pop("admin", None)
    each = {"checkout": 1.0 + config.retry_share, "cancel": 1.0}
    return sum(weights.get(name, 0.0) * each[name] for name in ORDERING_JOURNEYS) / sum(
        weights.values()
    )


def accounts_for(config: PerfConfig, peak_rps: float, admin_known: bool = True) -> int:
    """Customer accounts a run at `peak_rps` needs: the configured number, or more when that
    would put an account above ORDER_LIMIT_SHARE of the target's per-account order limit.

    Users take accounts in turn, so an account carries at most ceil(users / accounts) users.
    PlanError when even one user alone would place too many orders.
    """
    per_user = config.user_rate * 60.0 * orders_per_iteration(config, admin_known)
    if per_user == 0:
        return config.data.users
    limit = config.data.orders_per_account_per_minute
    users_per_account = math.floor(limit * ORDER_LIMIT_SHARE / per_user)
    if users_per_account < 1:
        raise PlanError(
            f"one simulated user places {per_user:.1f} orders a minute, over "
            f"{ORDER_LIMIT_SHARE:.0%} of the target's limit of {limit:g} per account: "
            "lower user_rate or the checkout and cancel weights"
        )
    users = users_for(peak_rps, config.user_rate, requests_per_iteration(config, admin_known))
    needed = max(config.data.users, math.ceil(users / users_per_account))
    if needed > MAX_ACCOUNTS:
        raise PlanError(
            f"{users} users at {peak_rps:g} RPS need {needed} accounts to stay under "
            f"{ORDER_LIMIT_SHARE:.0%} of {limit:g} orders a minute each; at most "
            f"{MAX_ACCOUNTS} are registered: raise the target's limit "
            "(data.orders_per_account_per_minute says what it is)"
        )
    return needed


def stage_at(stages: list[Stage], elapsed_s: float) -> int | None:
    """Index of the stage running `elapsed_s` into the shape; None once all are over."""
    end = 0.0
    for index, stage in enumerate(stages):
        end += stage.duration_s
        if elapsed_s < end:
            return index
    return None


def shortfall(
    planned_requests: float,
    sent: int,
    mean_requests: float,
    what: str,
    asked_rps: float,
    seconds: float,
) -> str:
    """Why `sent` requests fall short of the plan ('' when the load was delivered).

    Latency judged at a lower rate than asked says nothing about the asked rate: a target too
    slow to keep its users on schedule (or a generator short of CPU) must not pass as if it
    had carried the load.
    """
    noise = 3.0 * math.sqrt(max(planned_requests, 0.0) * mean_requests)
    if sent >= DELIVERED_SHARE * planned_requests - noise:
        return ""
    return (
        f"load not delivered: {what} asked {asked_rps:g} RPS, "
        f"{sent / seconds:.0f} RPS were sent ({sent} of about {planned_requests:.0f} requests)"
        " - the target did not keep its users on schedule, or the generator ran short"
    )


def spawn_rate(previous_users: int, users: int, ramp_s: float) -> float:
    """Users per second that spread a change of user count over `ramp_s` seconds."""
    return max(1.0, math.ceil(abs(users - previous_users) / ramp_s))


def window(later: Iterable[GroupStats], earlier: Iterable[GroupStats]) -> list[GroupStats]:
    """What happened between two snapshots (counts and histograms subtracted)."""
    before = {(g.name, g.method): g for g in earlier}
    result = []
    for group in later:
        old = before.get((group.name, group.method))
        if old is None:
            result.append(group)
            continue
        histogram = {
            bucket: count - old.response_times.get(bucket, 0)
            for bucket, count in group.response_times.items()
            if count - old.response_times.get(bucket, 0) > 0
        }
        result.append(
            GroupStats(
                method=group.method,
                name=group.name,
                requests=group.requests - old.requests,
                failures=group.failures - old.failures,
                response_times=histogram,
                server_errors=group.server_errors - old.server_errors,
            )
        )
    return result


def merge(*windows: Iterable[GroupStats]) -> list[GroupStats]:
    """Several windows' groups added up, one group per (name, method)."""
    merged: dict[tuple[str, str], GroupStats] = {}
    for groups in windows:
        for group in groups:
            key = (group.name, group.method)
            old = merged.get(key)
            if old is None:
                merged[key] = group
                continue
            histogram = dict(old.response_times)
            for bucket, count in group.response_times.items():
                histogram[bucket] = histogram.get(bucket, 0) + count
            merged[key] = GroupStats(
                method=group.method,
                name=group.name,
                requests=old.requests + group.requests,
                failures=old.failures + group.failures,
                response_times=histogram,
                server_errors=old.server_errors + group.server_errors,
            )
    return list(merged.values())


@dataclass
class StepResult:
    """How one step of a step search went."""

    rps: float
    achieved_rps: float
    p95_ms: float | None
    error_rate: float | None
    verdict: Verdict
    reason: str = ""  # why a step broke other than by an SLO (its load was not delivered)


@dataclass
class StepSearch:
    """Judges finished steps; remembers the statistics up to the last step that held."""

    catalog: Catalog
    results: list[StepResult] = field(default_factory=list)
    held: list[GroupStats] | None = None
    knee_rps: float | None = None
    broke: bool = False
    _baseline: list[GroupStats] = field(default_factory=list)

    def finish_step(
        self,
        stage: Stage,
        snapshot: list[GroupStats],
        mean_requests: float = 1.0,
        planned: float | None = None,
    ) -> bool:
        """Judge the step that just ended (cumulative `snapshot`); False when it broke.

        A step breaks on a key SLO missed in any scope (the final gate's judgement), and on a
        load it did not deliver: the knee is never above a rate the target was shown to carry.
        """
        gate = evaluate(window(snapshot, self._baseline), self.catalog)
        overall = {r.id: r for r in gate.slos if r.scope is None}
        missed = any(r.verdict is Verdict.FAIL and self.catalog.slo(r.id).key for r in gate.slos)
        short = shortfall(
            stage.rps * stage.duration_s if planned is None else planned,
            gate.requests,
            mean_requests,
            f"the {stage.rps:g} RPS step",
            stage.rps,
            stage.duration_s,
        )
        broke = missed or bool(short) or gate.verdict is Verdict.ERROR
        verdict = Verdict.FAIL if broke else Verdict.PASS
        self.results.append(
            StepResult(
                rps=stage.rps,
                achieved_rps=round(gate.requests / stage.duration_s, 1),
                p95_ms=overall[LATENCY].observed if LATENCY in overall else None,
                error_rate=overall[ERRORS].observed if ERRORS in overall else None,
                verdict=verdict,
                reason=short,
            )
        )
        self._baseline = snapshot
        if verdict is Verdict.FAIL:
            self.broke = True
            return False
        self.held, self.knee_rps = snapshot, stage.rps
        return True


class ShapePlan:
    """One configured shape's ticks: (users, spawn rate) for the time elapsed, None at the end."""

    def __init__(
        self, config: PerfConfig, name: str, mean_requests: float, catalog: Catalog
    ) -> None:
        shape = config.shape(name)
        self.config = config
        self.name = name
        self.mean_requests = mean_requests
        self.stages = shape.plan()
        self.search = StepSearch(catalog) if shape.step is not None else None
        self.catalog = catalog
        self._index: int | None = None
        self._users = 0
        self._rate = 1.0
        self._stage_ends: list[int] = []  # requests sent by the end of each finished stage
        # Each finished stage's statistics from the end of its warm-up (its first `ramp_s`, and
        # the first stage's users' first gaps) to its end; what fixed shapes are judged on.
        self.stage_windows: list[list[GroupStats]] = []
        self._stage_start: list[GroupStats] = []
        self._warm: list[GroupStats] | None = None

    def users_for(self, rps: float) -> int:
        """Users that produce `rps` requests per second at the configured pacing."""
        return users_for(rps, self.config.user_rate, self.mean_requests)

    def tick(
        self, elapsed_s: float, snapshot: Callable[[], list[GroupStats]]
    ) -> tuple[int, float] | None:
        """(users, spawn rate) at `elapsed_s`; None ends the run (time is up, or a step broke)."""
        index = stage_at(self.stages, elapsed_s)
        finished = self._index if index != self._index else None
        search = self.search
        if finished is not None:
            stats = snapshot()
            self._stage_ends.append(sum(group.requests for group in stats))
            self.stage_windows.append(window(stats, self._warm or self._stage_start))
            self._stage_start, self._warm = stats, None
            planned = self.planned_requests(finished)
            if search and not search.finish_step(
                self.stages[finished], stats, self.mean_requests, planned
            ):
                return None
        self._index = index
        if index is None:
            return None
        if self._warm is None and elapsed_s >= self.warm_until_s(index):
            self._warm = snapshot()
        users = self.users_for(self.stages[index].rps)
        if users != self._users:
            # Locust restarts its ramp whenever the rate it is given changes, so the rate is
            # set once per change of user count and repeated unchanged after (returning a new
            # rate of 1 user/s on the next tick had left a 300 RPS run ramping at 1 user/s).
            self._rate = spawn_rate(self._users, users, self.config.ramp_s)
            self._users = users
        return users, self._rate

    def warm_until_s(self, index: int) -> float:
        """Seconds into the shape when stage `index` is past its warm-up."""
        start = sum(stage.duration_s for stage in self.stages[:index])
        warm_up = self.config.ramp_s + (1.0 / self.config.user_rate if index == 0 else 0.0)
        return start + min(warm_up, self.stages[index].duration_s / 2)

    def stage_failures(self) -> list[str]:
        """Why a finished stage of a fixed shape with several stages broke a key SLO on its own
        statistics, warm-up excluded (a 600 RPS minute of a spike must not hide in the average
        of the 300 RPS around it)."""
        if self.search is not None or len(self.stages) < 2:
            return []
        reasons = []
        for index, groups in enumerate(self.stage_windows):
            gate = evaluate(groups, self.catalog)
            if gate.verdict is Verdict.FAIL:
                stage = self.stages[index]
                said = gate.reasons[0] if gate.reasons else "a key SLO missed"
                reasons.append(
                    f"stage {index + 1} of the {self.name} shape ({stage.rps:g} RPS, warm-up "
                    f"excluded) failed on its own: {said}"
                )
        return reasons

    def judged(self) -> list[GroupStats] | None:
        """The statistics a fixed shape is judged on: its finished stages, warm-up excluded
        (None for a step search, or a run that finished no stage)."""
        if self.search is not None or not self.stage_windows:
            return None
        return merge(*self.stage_windows)

    def planned_requests(self, index: int) -> float:
        """Requests stage `index` should send, less what its ramp and the first gaps lose.

        A rise in rate is spread over `ramp_s`, losing about half of it meanwhile; the first
        stage also waits each user's random first gap (mean 1 / user_rate).
        """
        stage = self.stages[index]
        before = self.stages[index - 1].rps if index > 0 else 0.0
        lost = max(0.0, stage.rps - before) * self.config.ramp_s / 2
        if index == 0:
            lost += stage.rps / self.config.user_rate
        return max(0.0, stage.rps * stage.duration_s - lost)

    def delivery(self, sent: int) -> str:
        """Why the run's load fell short of its shape, stage by stage ('' when every stage was
        delivered; a step search judges its steps as they end)."""
        if self.search is not None:
            return ""
        ends = self._stage_ends
        if len(ends) < len(self.stages):  # ended early: the stages it finished, then the rest
            ends = [*ends, sent]
        reasons = []
        for index, end in enumerate(ends):
            stage = self.stages[index]
            stage_sent = end - (ends[index - 1] if index else 0)
            what = f"stage {index + 1} of the {self.name} shape"
            if len(self.stages) == 1:
                what = f"the {self.name} shape"
            planned = self.planned_requests(index)
            reason = shortfall(
                planned, stage_sent, self.mean_requests, what, stage.rps, stage.duration_s
            )
            if reason:
                reasons.append(reason)
        return "; ".join(reasons)

    def report(self) -> dict[str, Any]:
        """What the shape adds to the summary's metrics."""
        report: dict[str, Any] = {
            "shape": self.name,
            "stages": [s.model_dump() for s in self.stages],
            "user_rate": self.config.user_rate,
            "requests_per_iteration": round(self.mean_requests, 3),
        }
        if self.search is not None:
            report["knee_rps"] = self.search.knee_rps
            report["slo_broke"] = self.search.broke
            report["steps"] = [vars(step) for step in self.search.results]
        return report
