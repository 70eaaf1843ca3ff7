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
from perf.config import PerfConfig, Stage, users_for
from perf.gate import ERRORS, LATENCY, GroupStats, evaluate

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


def stage_at(stages: list[Stage], elapsed_s: float) -> int | None:
    """Index of the stage running `elapsed_s` into the shape; None once all are over."""
    end = 0.0
    for index, stage in enumerate(stages):
        end += stage.duration_s
        if elapsed_s < end:
            return index
    return None


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


@dataclass
class StepResult:
    """How one step of a step search went."""

    rps: float
    achieved_rps: float
    p95_ms: float | None
    error_rate: float | None
    verdict: Verdict


@dataclass
class StepSearch:
    """Judges finished steps; remembers the statistics up to the last step that held."""

    catalog: Catalog
    results: list[StepResult] = field(default_factory=list)
    held: list[GroupStats] | None = None
    knee_rps: float | None = None
    broke: bool = False
    _baseline: list[GroupStats] = field(default_factory=list)

    def finish_step(self, stage: Stage, snapshot: list[GroupStats]) -> bool:
        """Judge the step that just ended (cumulative `snapshot`); False when it broke."""
        gate = evaluate(window(snapshot, self._baseline), self.catalog)
        overall = {r.id: r for r in gate.slos if r.scope is None}
        # The final gate's judgement: a key SLO missed in any scope breaks the step.
        missed = any(r.verdict is Verdict.FAIL and self.catalog.slo(r.id).key for r in gate.slos)
        verdict = Verdict.FAIL if missed or gate.verdict is Verdict.ERROR else Verdict.PASS
        self.results.append(
            StepResult(
                rps=stage.rps,
                achieved_rps=round(gate.requests / stage.duration_s, 1),
                p95_ms=overall[LATENCY].observed if LATENCY in overall else None,
                error_rate=overall[ERRORS].observed if ERRORS in overall else None,
                verdict=verdict,
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
        self._index: int | None = None
        self._users = 0

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
        if (
            finished is not None
            and search
            and not search.finish_step(self.stages[finished], snapshot())
        ):
            return None
        self._index = index
        if index is None:
            return None
        users = self.users_for(self.stages[index].rps)
        rate = spawn_rate(self._users, users, self.config.ramp_s)
        self._users = users
        return users, rate

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
