"""Locust statistics as the gate's endpoint groups, with what Locust's own stats do not keep.

Locust's stats carry counts and latency histograms per (name, method) and are merged from
workers by the master. They keep no status codes, and their histogram rounds (to 10 ms above
100 ms, so 295 ms reads 300 and fails `< 300`). So the answers the catalog calls errors (its
`errors:`, 5xx, which the alert rules count too), requests with no answer, and every
request's latency to the millisecond (floored: 299.6 ms is in the 299 bucket, below 300) are
kept here and shipped to the master in the workers' regular reports (`report_to_master` /
`worker_report`).
"""

from __future__ import annotations

import math
from typing import Any

from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import RequestStats

from assay.catalog.errors import NO_ANSWER, ErrorStatuses
from perf.gate import GroupStats

REPORT_KEY = "assay_server_errors"
LATENCY_KEY = "assay_latency_ms"
Key = tuple[str, str]  # (name, method), Locust's key of a stats entry


class ServerErrors:
    """Error answers (and no answers) and exact latencies per endpoint group, added up across
    workers on the master."""

    def __init__(self) -> None:
        self.counts: dict[Key, int] = {}
        self.latencies: dict[Key, dict[int, int]] = {}
        self.errors: ErrorStatuses | None = None

    def add(self, name: str, method: str, count: int = 1) -> None:
        """Count `count` server errors of one group."""
        self.counts[(name, method)] = self.counts.get((name, method), 0) + count

    def took(self, name: str, method: str, milliseconds: int, count: int = 1) -> None:
        """Count `count` requests of one group that took `milliseconds` (floored)."""
        histogram = self.latencies.setdefault((name, method), {})
        histogram[milliseconds] = histogram.get(milliseconds, 0) + count

    def answered(self, name: str, method: str, status_code: int) -> None:
        """Count one request of a group if its answer is an error by the catalog."""
        if self.errors is None:
            raise RuntimeError("ServerErrors.install(environment, errors) was not called")
        if self.errors.counts(status_code):
            self.add(name, method)

    def install(self, environment: Environment, errors: ErrorStatuses) -> None:
        """Listen to requests (every process) and to worker reports (the master)."""
        self.errors = errors
        events = environment.events

        @events.request.add_listener
        def _on_request(
            request_type: str,
            name: str,
            response_time: float | None = None,
            response: Any = None,
            **_: Any,
        ) -> None:
            self.answered(name, request_type, getattr(response, "status_code", None) or NO_ANSWER)
            if response_time is not None:
                self.took(name, request_type, math.floor(response_time))

        @events.report_to_master.add_listener
        def _report(client_id: str, data: dict[str, Any]) -> None:
            data[REPORT_KEY] = [[name, method, n] for (name, method), n in self.counts.items()]
            data[LATENCY_KEY] = [
                [name, method, [[ms, n] for ms, n in histogram.items()]]
                for (name, method), histogram in self.latencies.items()
            ]
            self.counts.clear()
            self.latencies.clear()

        @events.worker_report.add_listener
        def _merge(client_id: str, data: dict[str, Any]) -> None:
            for name, method, count in data.get(REPORT_KEY, []):
                self.add(name, method, count)
            for name, method, histogram in data.get(LATENCY_KEY, []):
                for milliseconds, count in histogram:
                    self.took(name, method, milliseconds, count)


# One per Locust process: the listeners it installs live as long as the process.
SERVER_ERRORS = ServerErrors()


def groups(stats: RequestStats, server_errors: ServerErrors) -> list[GroupStats]:
    """A copy of every endpoint group's counts and exact histogram, as the gate reads them.

    Locust's rounded histogram stands in only for a group this process saw no request of
    (none, when the listeners are installed before the run)."""
    return [
        GroupStats(
            method=entry.method,
            name=entry.name,
            requests=entry.num_requests,
            failures=entry.num_failures,
            response_times=dict(
                server_errors.latencies.get((entry.name, entry.method)) or entry.response_times
            ),
            server_errors=server_errors.counts.get((entry.name, entry.method), 0),
        )
        for entry in stats.entries.values()
    ]


def is_worker(environment: Environment) -> bool:
    """Whether this process is a worker (its stats are partial; the master judges)."""
    return isinstance(environment.runner, WorkerRunner)
