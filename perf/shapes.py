"""The Locust side of load shapes: `perf.plan` decides, this class reports to Locust."""

from __future__ import annotations

from typing import Any, ClassVar

from locust import LoadTestShape

from assay.catalog import load_catalog
from perf.config import load_config, shape_name
from perf.gate import GroupStats
from perf.plan import ShapePlan, requests_per_iteration
from perf.stats import SERVER_ERRORS, groups


class ThroughputShape(LoadTestShape):
    """The configured shape (`ASSAY_PERF_SHAPE`, default smoke), paced by target throughput."""

    mean_requests: ClassVar[float | None] = None  # set by the locustfile once data is known

    def __init__(self) -> None:
        super().__init__()
        self.config = load_config()
        self.name = shape_name()
        self.config.shape(self.name)  # an unknown shape fails at start-up, not at the first tick
        self.plan: ShapePlan | None = None

    def _plan(self) -> ShapePlan:
        if self.plan is None:  # built at the first tick: by then the data (and pacing) is known
            mean = self.mean_requests or requests_per_iteration(self.config)
            self.plan = ShapePlan(self.config, self.name, mean, load_catalog())
        return self.plan

    def _snapshot(self) -> list[GroupStats]:
        assert self.runner is not None
        return groups(self.runner.stats, SERVER_ERRORS)

    def tick(self) -> tuple[int, float] | None:
        """(users, spawn rate) for now; None ends the run."""
        return self._plan().tick(self.get_run_time(), self._snapshot)

    def held(self) -> list[GroupStats] | None:
        """A step search's statistics up to its knee (None for other shapes)."""
        search = self._plan().search
        return search.held if search is not None else None

    def judged(self) -> list[GroupStats] | None:
        """A fixed shape's statistics without its warm-up (None: judge the whole run)."""
        return self._plan().judged()

    def stage_failures(self) -> list[str]:
        """Stages of a fixed shape that broke a key SLO on their own."""
        return self._plan().stage_failures()

    def delivery(self, sent: int) -> str:
        """Why the run's load fell short of the shape ('' when it was delivered)."""
        return self._plan().delivery(sent)

    def report(self) -> dict[str, Any]:
        """What the shape adds to the summary's metrics."""
        return self._plan().report()
