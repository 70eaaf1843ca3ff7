"""Load shapes as configuration: target throughput over time, turned into user counts.

Users are paced (each a Poisson process of `user_rate` journeys/s), so a target RPS maps to a
user count: users = rps / (user_rate x mean requests per journey). The `step` shape judges
each finished step against the catalog's key SLOs and stops at the first that misses them;
the knee is the last step that held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from locust import LoadTestShape

from assay.catalog import Catalog, load_catalog
from assay.summary import Verdict
from perf.config import PerfConfig, Stage, load_config, shape_name, users_for
from perf.gate import ERRORS, LATENCY, GroupStats, evaluate
from perf.journeys import requests_per_iteration
from perf.stats import SERVER_ERRORS, groups, window


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
        """Judge the step that just ended; False when it missed a key SLO (stop there)."""
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


class ThroughputShape(LoadTestShape):
    """The configured shape (`ASSAY_PERF_SHAPE`, default smoke), paced by target throughput."""

    mean_requests: ClassVar[float | None] = None  # set by the locustfile once data is known

    def __init__(self, config: PerfConfig | None = None, name: str | None = None) -> None:
        super().__init__()
        self.config = config or load_config()
        self.name = name or shape_name()
        shape = self.config.shape(self.name)
        self.stages = shape.plan()
        self.search = StepSearch(load_catalog()) if shape.step is not None else None
        self._index: int | None = None
        self._users = 0

    def users_for(self, rps: float) -> int:
        """Users that produce `rps` requests per second at the configured pacing."""
        mean = self.mean_requests or requests_per_iteration(self.config)
        return users_for(rps, self.config.user_rate, mean)

    def tick(self) -> tuple[int, float] | None:
        """(users, spawn rate) for now; None ends the run."""
        index = stage_at(self.stages, self.get_run_time())
        if index != self._index and self._index is not None and self.search is not None:
            assert self.runner is not None
            snapshot = groups(self.runner.stats, SERVER_ERRORS)
            if not self.search.finish_step(self.stages[self._index], snapshot):
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
            "requests_per_iteration": round(
                self.mean_requests or requests_per_iteration(self.config), 3
            ),
        }
        if self.search is not None:
            report["knee_rps"] = self.search.knee_rps
            report["slo_broke"] = self.search.broke
            report["steps"] = [vars(step) for step in self.search.results]
        return report
