"""Locust statistics as the gate's endpoint groups, plus a 5xx counter that survives distribution.

Locust's own stats carry counts and latency histograms per (name, method) and are merged from
workers by the master. They do not keep status codes, so 5xx answers are counted here and
shipped to the master in the workers' regular reports (`report_to_master` / `worker_report`).
"""

from __future__ import annotations

from typing import Any

from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import RequestStats

from perf.gate import GroupStats

REPORT_KEY = "assay_server_errors"
Key = tuple[str, str]  # (name, method), Locust's key of a stats entry


class ServerErrors:
    """5xx answers per endpoint group, added up across workers on the master."""

    def __init__(self) -> None:
        self.counts: dict[Key, int] = {}

    def add(self, name: str, method: str, count: int = 1) -> None:
        """Count `count` server errors of one group."""
        self.counts[(name, method)] = self.counts.get((name, method), 0) + count

    def install(self, environment: Environment) -> None:
        """Listen to requests (every process) and to worker reports (the master)."""
        events = environment.events

        @events.request.add_listener
        def _on_request(request_type: str, name: str, response: Any = None, **_: Any) -> None:
            if response is not None and getattr(response, "status_code", 0) >= 500:
                self.add(name, request_type)

        @events.report_to_master.add_listener
        def _report(client_id: str, data: dict[str, Any]) -> None:
            data[REPORT_KEY] = [[name, method, n] for (name, method), n in self.counts.items()]
            self.counts.clear()

        @events.worker_report.add_listener
        def _merge(client_id: str, data: dict[str, Any]) -> None:
            for name, method, count in data.get(REPORT_KEY, []):
                self.add(name, method, count)


# One per Locust process: the listeners it installs live as long as the process.
SERVER_ERRORS = ServerErrors()


def groups(stats: RequestStats, server_errors: ServerErrors) -> list[GroupStats]:
    """A copy of every endpoint group's counts and histogram, as the gate reads them."""
    return [
        GroupStats(
            method=entry.method,
            name=entry.name,
            requests=entry.num_requests,
            failures=entry.num_failures,
            response_times=dict(entry.response_times),
            server_errors=server_errors.counts.get((entry.name, entry.method), 0),
        )
        for entry in stats.entries.values()
    ]


def is_worker(environment: Environment) -> bool:
    """Whether this process is a worker (its stats are partial; the master judges)."""
    return isinstance(environment.runner, WorkerRunner)
