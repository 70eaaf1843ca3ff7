"""In what order `assay run` runs its suites, and which run side by side.

A suite that judges a target of its own (chaos provisions its own stack in place of a local
target) does not need the run's target to itself: it runs beside the suites that judge the
run's target, so the run takes about as long as the longer of the two, not their sum. A
suite whose verdict rests on latencies measured on this machine (perf) runs first, with
nothing beside it; one that runs beside others is told so (`BESIDE_ENV`), and measures its
latencies without judging them.

The suites beside run on the main thread, since a suite may handle SIGINT and SIGTERM (chaos
stops its experiment gracefully and resets its faults), which only the main thread can; the
others run in order on a second thread. When the main thread is stopped, the suite running
on the second thread finishes and no later one starts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Event, Thread

from assay.run import Run
from assay.suites import BESIDE_ENV, Suite, SuiteError
from assay.summary import Counts, Summary, Verdict, require_judged, utcnow
from assay.target import Target

Announce = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """`first` in order with nothing beside them, then `beside` while `along` run in order."""

    first: list[Suite]
    beside: list[Suite]
    along: list[Suite]


def plan(chosen: list[Suite], target: Target) -> Plan:
    """The chosen suites' schedule against `target` (in their order when none runs beside)."""
    beside = [s for s in chosen if s.own_target(target)]
    others = [s for s in chosen if s not in beside]
    along = [s for s in others if not s.judges_latency]
    if not beside or not along:
        return Plan(list(chosen), [], [])
    return Plan([s for s in others if s.judges_latency], beside, along)


def error_summary(suite: str, reason: str, started_at: float) -> Summary:
    """The summary of a suite that could not judge (verdict `error`)."""
    now = utcnow()
    return Summary(
        suite=suite,
        verdict=Verdict.ERROR,
        started_at=now,
        finished_at=now,
        duration_s=round(time.monotonic() - started_at, 3),
        counts=Counts(),
        notes=[reason],
    )


def run_one(suite: Suite, run: Run, target: Target, min_share: float) -> Summary:
    """One suite, judged and recorded in the run (a suite that could not judge: `error`)."""
    started = time.monotonic()
    try:
        summary = require_judged(suite.run(run, target), min_share)
    except SuiteError as exc:
        summary = error_summary(suite.name, f"suite could not judge: {exc}", started)
    run.record_suite(summary)
    return summary


def run_suites(
    chosen: list[Suite], run: Run, target: Target, min_share: float, announce: Announce
) -> list[Summary]:
    """Run the chosen suites as `plan` schedules them; their summaries in the chosen order."""
    schedule = plan(chosen, target)
    done: dict[str, Summary] = {}
    for suite in schedule.first:
        announce(f"{suite.name} against {target.base_url}")
        done[suite.name] = run_one(suite, run, target, min_share)
    if schedule.beside:
        done.update(_side_by_side(schedule, run, target, min_share, announce))
    return [done[s.name] for s in chosen]


def _side_by_side(
    schedule: Plan, run: Run, target: Target, min_share: float, announce: Announce
) -> dict[str, Summary]:
    done: dict[str, Summary] = {}
    stop = Event()
    crashed: list[BaseException] = []

    def along() -> None:
        try:
            for suite in schedule.along:
                if stop.is_set():
                    return
                announce(f"{suite.name} against {target.base_url}")
                done[suite.name] = run_one(suite, run, target, min_share)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread after the join
            crashed.append(exc)

    names = ", ".join(s.name for s in schedule.along)
    worker = Thread(target=along, name="assay-suites-along")
    os.environ[BESIDE_ENV] = names
    try:
        mine = ", ".join(s.name for s in schedule.beside)
        announce(f"{mine} on a target of its own, beside {names}")
        worker.start()
        for suite in schedule.beside:
            done[suite.name] = run_one(suite, run, target, min_share)
    except BaseException:
        stop.set()
        raise
    finally:
        if worker.is_alive():
            worker.join()
        os.environ.pop(BESIDE_ENV, None)
    if crashed:
        raise crashed[0]
    return done
