"""`assay run` runs a suite that judges a target of its own beside the others, and a suite
that judges latency with nothing beside it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from assay import schedule
from assay.run import Run
from assay.suites import BESIDE_ENV, Suite
from assay.summary import Summary, Verdict, utcnow
from assay.target import Target, TargetKind

LOCAL = Target(base_url="http://127.0.0.1:9", kind=TargetKind.MANAGED)
REMOTE = Target(base_url="https://staging.example", kind=TargetKind.REMOTE)
WAIT_S = 30  # a broken schedule fails the test this long after it hangs


def passed(name: str) -> Summary:
    now = utcnow()
    return Summary(suite=name, verdict=Verdict.PASS, started_at=now, finished_at=now, duration_s=0)


def suite(name: str, body: Callable[[], None] = lambda: None, **traits: object) -> Suite:
    def run(run: Run, target: Target) -> Summary:
        body()
        return passed(name)

    return Suite(name=name, run=run, **traits)  # type: ignore[arg-type]


def local_only(target: Target) -> bool:
    return target.kind is not TargetKind.REMOTE


def names(suites: list[Suite]) -> list[str]:
    return [s.name for s in suites]


def test_latency_first_then_the_own_target_suite_beside_the_rest() -> None:
    chosen = [
        suite("acceptance"),
        suite("perf", judges_latency=True),
        suite("chaos", own_target=local_only),
        suite("security"),
    ]
    plan = schedule.plan(chosen, LOCAL)
    assert names(plan.first) == ["perf"]
    assert names(plan.beside) == ["chaos"]
    assert names(plan.along) == ["acceptance", "security"]


def test_on_a_target_it_must_share_every_suite_runs_in_the_order_chosen() -> None:
    chosen = [suite("chaos", own_target=local_only), suite("perf", judges_latency=True)]
    assert names(schedule.plan([*chosen, suite("security")], REMOTE).first) == [
        "chaos",
        "perf",
        "security",
    ]
    # Nothing to run beside: the order chosen, even on a local target.
    assert names(schedule.plan(chosen, LOCAL).first) == ["chaos", "perf"]


def test_the_suite_beside_runs_on_this_thread_while_the_others_run(tmp_path: Path) -> None:
    run = Run.create(tmp_path)
    beside_started, along_started = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def beside() -> None:
        seen["thread"] = threading.current_thread()
        seen["env"] = os.environ.get(BESIDE_ENV)
        beside_started.set()
        assert along_started.wait(WAIT_S)

    def along() -> None:
        # Each waits for the other to have started: run one after the other, both fail.
        assert beside_started.wait(WAIT_S)
        along_started.set()

    chosen = [
        suite("acceptance", along),
        suite("chaos", beside, own_target=local_only),
        suite("security"),
    ]
    announced: list[str] = []
    summaries = schedule.run_suites(chosen, run, LOCAL, 1.0, announced.append)

    assert [s.suite for s in summaries] == ["acceptance", "chaos", "security"]
    assert seen == {"thread": threading.main_thread(), "env": "acceptance, security"}
    assert BESIDE_ENV not in os.environ
    assert run.verdicts() == {name: Verdict.PASS for name in ("acceptance", "chaos", "security")}
    assert "chaos on a target of its own, beside acceptance, security" in announced


def test_stopping_the_suite_beside_lets_the_running_one_finish_and_starts_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Run.create(tmp_path)
    started, stopped = threading.Event(), threading.Event()

    class Stop(threading.Event):
        """The schedule's stop signal, which the test watches."""

        def set(self) -> None:
            super().set()
            stopped.set()

    monkeypatch.setattr(schedule, "Event", Stop)
    ran: list[str] = []

    def running() -> None:
        started.set()
        assert stopped.wait(WAIT_S)  # still running when the stop comes
        ran.append("acceptance")

    def interrupted() -> None:
        assert started.wait(WAIT_S)
        raise KeyboardInterrupt

    chosen = [
        suite("acceptance", running),
        suite("chaos", interrupted, own_target=local_only),
        suite("security", lambda: ran.append("security")),
    ]
    with pytest.raises(KeyboardInterrupt):
        schedule.run_suites(chosen, run, LOCAL, 1.0, lambda _: None)

    assert ran == ["acceptance"]
    assert run.verdicts() == {"acceptance": Verdict.PASS}
    assert BESIDE_ENV not in os.environ


def test_a_crash_in_a_suite_along_reaches_the_caller(tmp_path: Path) -> None:
    def crash() -> None:
        raise RuntimeError("the suite's own bug")

    chosen = [suite("acceptance", crash), suite("chaos", own_target=local_only)]
    with pytest.raises(RuntimeError, match="own bug"):
        schedule.run_suites(chosen, Run.create(tmp_path), LOCAL, 1.0, lambda _: None)
