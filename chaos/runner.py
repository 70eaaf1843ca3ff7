"""Running `chaos run` for one experiment within a budget, stopped so that its rollbacks run.

Chaos Toolkit plays an experiment's rollbacks after an interruption only when its main thread
gets `KeyboardInterrupt`, that is SIGINT (chaoslib.run: "interrupted", then `run_rollback`,
played because the suite passes `--rollback-strategy always`). SIGTERM is no substitute:
chaoslib turns it into `InterruptExecution`, an `Exception` that the Python provider rewraps
as `ActivityFailed` when it lands inside an activity, so the activity fails and the
experiment goes on. A killed process plays nothing. So an experiment over its budget, or a
harness being stopped, gets SIGINT, then `grace_s` to finish its rollbacks, and only then
SIGKILL (its process group: what its activities started dies with it).

`chaos run` starts in a session of its own, so a Ctrl-C at the terminal reaches the harness
alone and the experiment gets exactly one SIGINT, from the harness; a harness that is itself
killed leaves the experiment running to its end, rollbacks included.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

EXPERIMENT_TIMEOUT_S = 240.0
ROLLBACK_GRACE_S = 30.0
TIMEOUT_ENV = "ASSAY_CHAOS_TIMEOUT_S"
GRACE_ENV = "ASSAY_CHAOS_ROLLBACK_GRACE_S"
HARNESS_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Outcome(StrEnum):
    """How a `chaos run` process ended."""

    EXITED = "exited"  # on its own (the journal, or its absence, says how it went)
    INTERRUPTED = "interrupted"  # stopped with SIGINT, exited within the grace period
    KILLED = "killed"  # still running after the grace period: SIGKILL


@dataclass(frozen=True)
class Limits:
    """Each experiment's budget and the grace its rollbacks get once it is stopped."""

    budget_s: float = EXPERIMENT_TIMEOUT_S
    grace_s: float = ROLLBACK_GRACE_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """`ASSAY_CHAOS_TIMEOUT_S`, `ASSAY_CHAOS_ROLLBACK_GRACE_S` (ValueError names a bad one)."""
        env = os.environ if environ is None else environ
        values = {}
        for name, default in ((TIMEOUT_ENV, EXPERIMENT_TIMEOUT_S), (GRACE_ENV, ROLLBACK_GRACE_S)):
            raw = env.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                value = -1.0
            if not value > 0:
                raise ValueError(f"{name} must be a number of seconds above 0, not {raw!r}")
            values[name] = value
        return cls(budget_s=values[TIMEOUT_ENV], grace_s=values[GRACE_ENV])


class HarnessStopped(KeyboardInterrupt):
    """The harness got SIGINT or SIGTERM during a chaos run."""

    def __init__(self, received: signal.Signals) -> None:
        super().__init__(received.name)
        self.received = received


class HarnessSignals:
    """SIGINT and SIGTERM to the harness while the chaos suite runs.

    The first one raises `HarnessStopped` where the harness is, unless the cleanup has begun;
    every later one (and one during the cleanup) is only recorded, so that stopping the
    experiment gracefully, the fault reset and the stack's teardown all finish. Python-level
    handlers also mean `chaos run` starts with SIGINT at its default (an ignored SIGINT would
    be inherited and would make a graceful stop impossible). Outside the main thread nothing
    is installed.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.cleaning = False
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> HarnessSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in HARNESS_SIGNALS:
                previous = signal.getsignal(sig)
                ignored = previous is signal.SIG_IGN
                self._previous[sig] = previous
                signal.signal(sig, self._ignore if ignored else self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.received is None
        if first:
            self.received = signal.Signals(signum)
        if first and not self.cleaning:
            raise HarnessStopped(signal.Signals(signum))

    def _ignore(self, signum: int, frame: FrameType | None) -> None:
        """The harness was started with this signal ignored: it stays ignored."""

    def cleanup_begins(self) -> None:
        """From now on a signal is recorded, never raised."""
        self.cleaning = True

    def exit_exception(self) -> BaseException:
        """What the harness raises once the suite has cleaned up after a signal."""
        if self.received is signal.SIGINT:
            return KeyboardInterrupt()
        return SystemExit(128 + int(self.received or signal.SIGTERM))


@dataclass(frozen=True)
class ExperimentRun:
    """One `chaos run` process: how it ended and why it was stopped, if it was."""

    name: str
    journal: Path | None  # None: chaos wrote none
    outcome: Outcome
    exit_code: int | None
    duration_s: float
    stopped_because: str | None = None  # over its budget, or the harness was stopped
    stop_took_s: float | None = None  # from SIGINT to its exit (or to SIGKILL)

    @property
    def completed(self) -> bool:
        """It ended on its own and wrote its journal (whatever the journal's verdict)."""
        return self.outcome is Outcome.EXITED and self.journal is not None

    def rollbacks(self) -> tuple[int, int, int] | None:
        """(declared, played, failed) rollbacks, from the journal (None without one)."""
        if self.journal is None:
            return None
        data = json.loads(self.journal.read_text(encoding="utf-8"))
        played = data.get("rollbacks") or []
        declared = len(data.get("experiment", {}).get("rollbacks") or [])
        failed = sum(run.get("status") != "succeeded" for run in played)
        return declared, len(played), failed

    def status(self) -> str:
        """Chaos Toolkit's status and deviation from the journal, or how the run ended."""
        if self.journal is None or not self.completed:
            return self.describe()
        data = json.loads(self.journal.read_text(encoding="utf-8"))
        deviated = " (the steady state deviated)" if data.get("deviated") else ""
        return f"{data.get('status', 'no status')}{deviated} in {self.duration_s:.0f} s"

    def describe(self) -> str:
        """How it ended, in one line, rollbacks included."""
        code = self.exit_code
        if self.outcome is Outcome.EXITED and code is not None and code < 0:
            ended = f"chaos died of {signal.Signals(-code).name}"
        elif self.outcome is Outcome.EXITED:
            ended = f"chaos exited with code {code}"
        elif self.outcome is Outcome.INTERRUPTED:
            ended = (
                f"{self.stopped_because}: stopped with SIGINT, chaos exited "
                f"{self.stop_took_s:.1f} s later (code {code})"
            )
        else:
            ended = (
                f"{self.stopped_because}: stopped with SIGINT, still running "
                f"{self.stop_took_s:.1f} s later, so killed"
            )
        rollbacks = self.rollbacks()
        if rollbacks is None:
            return f"{ended}; no journal: its rollbacks did not run, or did not finish"
        declared, played, failed = rollbacks
        return f"{ended}; journal written, rollbacks played: {played} of {declared}" + (
            f", {failed} failed" if failed else ""
        )

    def record(self) -> dict[str, Any]:
        """Its entry in chaos/summary.json's metrics."""
        rollbacks = self.rollbacks()
        return {
            "outcome": str(self.outcome),
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 2),
            "stopped_because": self.stopped_because,
            "stop_took_s": None if self.stop_took_s is None else round(self.stop_took_s, 2),
            "journal": self.journal is not None,
            "rollbacks": (
                None
                if rollbacks is None
                else dict(zip(("declared", "played", "failed"), rollbacks, strict=True))
            ),
            "summary": self.describe(),
        }


def chaos_command(experiment: Path, journal: Path, log: Path) -> list[str]:
    """`chaos run` with rollbacks always played (after a failure or an interruption too)."""
    chaos = Path(sys.executable).with_name("chaos")
    return [
        str(chaos),
        "--log-file",
        str(log),
        "run",
        "--rollback-strategy",
        "always",
        "--journal-path",
        str(journal),
        str(experiment),
    ]


def stop_gracefully(process: subprocess.Popen[bytes], grace_s: float) -> tuple[Outcome, float]:
    """SIGINT, up to `grace_s` for the rollbacks, then SIGKILL to its process group."""
    asked = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
        return Outcome.INTERRUPTED, time.monotonic() - asked
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a session leader: pgid == pid
        process.wait()
        return Outcome.KILLED, time.monotonic() - asked


def _written(journal: Path) -> Path | None:
    """The journal, if chaos wrote it whole (one cut short by a kill is set aside)."""
    try:
        json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        journal.replace(journal.with_name(journal.name.replace(".journal.", ".partial-journal.")))
        return None
    return journal


def run_experiment(
    experiment: Path,
    out: Path,
    env: Mapping[str, str],
    limits: Limits | None = None,
    signals: HarnessSignals | None = None,
) -> ExperimentRun:
    """`chaos run` one experiment, stopped gracefully if over budget or if the harness is.

    A `HarnessStopped` becomes the run's reason (the suite re-raises once it has cleaned up);
    any other interrupt is re-raised after the graceful stop.
    """
    limits = limits or Limits()
    journal = out / f"{experiment.stem}.journal.json"
    log = out / f"{experiment.stem}.log"
    journal.unlink(missing_ok=True)
    started = time.monotonic()
    # Its console output goes beside its log, not to the harness's screen, which shows a line
    # an experiment (and other suites' output when chaos runs beside them).
    with (out / f"{experiment.stem}.console.log").open("wb") as console:
        process = subprocess.Popen(  # noqa: S603 - chaostoolkit from our own environment
            chaos_command(experiment, journal, log),
            env=dict(env),
            start_new_session=True,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    interrupt: KeyboardInterrupt | None = None
    try:
        code = process.wait(timeout=limits.budget_s)
        return ExperimentRun(
            experiment.stem,
            _written(journal),
            Outcome.EXITED,
            code,
            time.monotonic() - started,
        )
    except subprocess.TimeoutExpired:
        because = f"ran over its {limits.budget_s:g} s budget"
    except KeyboardInterrupt as exc:
        interrupt = exc
        name = exc.received.name if isinstance(exc, HarnessStopped) else "SIGINT"
        because = f"the harness was stopped ({name})"
    if signals is not None:
        signals.cleanup_begins()
    outcome, took = stop_gracefully(process, limits.grace_s)
    if interrupt is not None and not isinstance(interrupt, HarnessStopped):
        raise interrupt
    return ExperimentRun(
        experiment.stem,
        _written(journal),
        outcome,
        process.returncode,
        time.monotonic() - started,
        stopped_because=because,
        stop_took_s=took,
    )
