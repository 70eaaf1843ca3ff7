"""The chaos suite's adapter: `chaos run` every experiment, journals -> chaos/summary.json.

With a managed target the suite provisions the local stack (`infra.local`) and runs every
experiment against it, tearing it down afterwards however the run ends. With `--target-url`
it runs only the experiments whose `assay` extension says they need nothing but HTTP.

`ASSAY_CHAOS_EXPERIMENTS` (comma-separated name prefixes, e.g. `04,06`) picks experiments;
`ASSAY_CHAOS_SETTINGS` (`NAME=VALUE,...`) passes service settings to the stack, e.g.
`BREAKER_ENABLED=false` or `PAYMENT_TRUST_FAILED_LOOKUP=true` to rehearse against a
deliberately weakened service.

Every experiment reconciles the gateways' ledgers with the service's orders before and after
its fault; the suite adds the check `ledger::gateways-agree` and `metrics.ledger`
(`chaos.money`). A remote target without gateway ledgers (`ASSAY_GATEWAY_LEDGERS`) runs the
experiments without that probe, and the summary says so.

Each experiment has a budget (`ASSAY_CHAOS_TIMEOUT_S`, 240 s); one over it, or a harness
stopped with SIGINT or SIGTERM, is stopped so that its rollbacks run (`chaos.runner`: SIGINT,
then `ASSAY_CHAOS_ROLLBACK_GRACE_S`, 30 s, then SIGKILL), and the suite runs no further
experiment. However the run ends (passed, failed, stopped, crashed), the suite then resets
every fault flag and gateway fault knob on the target and reads them back (`chaos.restore`):
the check `chaos::faults-reset` names any left off its default. A stopped harness records
this summary itself, then stops (KeyboardInterrupt, or exit status 143 on SIGTERM).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.catalog import load_catalog
from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Check, Counts, Summary, Verdict, counts_verdict, utcnow
from assay.target import Target, TargetKind
from chaos import traffic
from chaos.journal import ExperimentResult, read_journal, suite_score
from chaos.money import LEDGER_PROBE, ledger_record
from chaos.restore import FaultReset, reset_faults, reset_stack_faults
from chaos.runner import ExperimentRun, HarnessSignals, HarnessStopped, Limits, run_experiment
from infra.local.descriptor import StackError
from infra.local.stack import provisioned_stack

NAME = "chaos"
EXPERIMENTS_DIR = Path(__file__).resolve().parent / "experiments"
STACK_ENV = ("ASSAY_STACK_FILE", "ASSAY_TARGET_URL", "ASSAY_CHAOS_STATE_DIR")
# The stack's service settles what a fault leaves pending within seconds, not minutes, so the
# ledger check after each experiment can wait for it: a pending order is settled by key once
# its reservation expires, and the sweep looks every second.
STACK_SETTINGS = {"RESERVATION_TTL_S": "15", "SWEEP_INTERVAL_S": "1"}
NOT_RUN = "not run: the suite stopped before it (see its notes)"


def needs(path: Path) -> list[str]:
    """What an experiment needs (`stack` or `http`), from its `assay` extension."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for extension in data.get("extensions", []):
        if extension.get("name") == "assay":
            return [str(n) for n in extension.get("needs", ["stack"])]
    return ["stack"]


def experiments(
    http_only: bool, only: list[str] | None = None, directory: Path = EXPERIMENTS_DIR
) -> list[Path]:
    """The local experiments to run, in name order (Kubernetes variants live elsewhere)."""
    chosen = []
    for path in sorted(directory.glob("*.json")):
        if only and not any(path.stem.startswith(prefix) for prefix in only):
            continue
        if http_only and needs(path) != ["http"]:
            continue
        chosen.append(path)
    return chosen


def _check(
    path: Path, result: ExperimentResult, rel: str, run: ExperimentRun | None = None
) -> Check:
    catalog = load_catalog()
    requirements = [t for t in result.tags if t in catalog.requirements]
    controls = sorted({c for r in requirements for c in catalog.requirements[r].controls})
    reasons = result.reasons()
    verdict = Verdict.PASS if result.passed else Verdict.FAIL
    if run is not None and not run.completed:  # stopped: its journal judges nothing
        verdict, reasons = Verdict.ERROR, [run.describe(), *reasons]
    return Check(
        id=f"chaos/experiments/{path.name}",
        title=result.title,
        requirements=requirements,
        controls=controls,
        verdict=verdict,
        duration_s=round(result.duration_s, 2),
        evidence=[f"{rel}/{path.stem}.journal.json"],
        message="\n".join(reasons) if reasons else None,
    )


def _unjudged(path: Path, out: Path, rel: str, why: str) -> Check:
    """An experiment without a journal: it crashed, was killed, or was not run."""
    try:
        title = str(json.loads(path.read_text(encoding="utf-8")).get("title", path.stem))
    except (OSError, ValueError):
        title = path.stem
    log = f"{path.stem}.log"
    return Check(
        id=f"chaos/experiments/{path.name}",
        title=title,
        verdict=Verdict.ERROR,
        evidence=[f"{rel}/{log}"] if (out / log).exists() else [],
        message=why,
    )


def summarize(
    out: Path,
    run_dir: Path,
    paths: list[Path],
    started: Any,
    duration_s: float,
    notes: list[str],
    runs: Mapping[str, ExperimentRun] | None = None,
    faults: FaultReset | None = None,
) -> Summary:
    """summary.json from the journals in `out`, how each `chaos run` ended (`runs`: an
    experiment without one was not run) and the end-of-run fault reset."""
    rel = out.relative_to(run_dir).as_posix()
    results: dict[str, ExperimentResult] = {}
    checks = []
    missing = 0
    for path in paths:
        journal = out / f"{path.stem}.journal.json"
        run = None if runs is None else runs.get(path.stem)
        if runs is not None and run is None:
            checks.append(_unjudged(path, out, rel, NOT_RUN))
        elif journal.exists():
            results[path.stem] = read_journal(journal)
            checks.append(_check(path, results[path.stem], rel, run))
        elif run is not None:
            checks.append(_unjudged(path, out, rel, run.describe()))
        else:
            missing += 1
    errors = missing + sum(c.verdict is Verdict.ERROR for c in checks)
    journals = [out / f"{p.stem}.journal.json" for p in paths if p.stem in results]
    ledger, ledger_metrics = ledger_record(journals, run_dir)
    if ledger is not None:
        checks.append(ledger)
    if faults is not None:
        checks.append(faults.check())
    counts = Counts(
        passed=sum(c.verdict is Verdict.PASS for c in checks),
        failed=sum(c.verdict is Verdict.FAIL for c in checks),
        errors=errors,
    )
    verdict = counts_verdict(counts) if results else Verdict.ERROR
    return Summary(
        suite=NAME,
        verdict=verdict,
        started_at=started,
        finished_at=utcnow(),
        duration_s=round(duration_s, 2),
        counts=counts,
        checks=checks,
        artifacts=sorted(
            p.relative_to(run_dir).as_posix()
            for pattern in ("*.journal.json", "*.log")
            for p in out.glob(pattern)
        ),
        notes=notes,
        metrics={
            "resilience_score": suite_score(list(results.values())),
            "experiments": {name: r.summary() for name, r in results.items()},
            **({"ledger": ledger_metrics} if ledger_metrics else {}),
            **({"runs": {name: r.record() for name, r in runs.items()}} if runs else {}),
            **({"faults_reset": faults.record()} if faults is not None else {}),
        },
    )


def without_ledger_probe(experiment: Path, into: Path) -> Path:
    """A copy of the experiment without the ledger probe (for a target whose gateways'
    ledgers are unknown: the probe could not judge, so it is left out, and said so)."""
    data = json.loads(experiment.read_text(encoding="utf-8"))
    hypothesis = data.get("steady-state-hypothesis", {})
    hypothesis["probes"] = [p for p in hypothesis.get("probes", []) if p["name"] != LEDGER_PROBE]
    into.mkdir(parents=True, exist_ok=True)
    copy = into / experiment.name
    copy.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return copy


def warm_up(base_url: str, state_dir: Path) -> None:
    """A short unjudged burst so the first hypothesis does not measure cold workers."""
    traffic.run_burst(
        base_url, state_dir, state_dir / "warm-up-orders.jsonl", duration_s=3.0, rate_rps=10.0
    )


def _settings(raw: str) -> dict[str, str]:
    pairs = [p.partition("=") for p in raw.split(",") if p.strip()]
    return {name.strip().upper(): value.strip() for name, _, value in pairs}


@dataclass
class _Progress:
    """What the suite has done so far: the summary is built from it however the run ends."""

    runs: dict[str, ExperimentRun] = field(default_factory=dict)
    faults: FaultReset | None = None
    notes: list[str] = field(default_factory=list)


def _run_all(
    paths: list[Path],
    out: Path,
    env: Mapping[str, str],
    limits: Limits,
    signals: HarnessSignals,
    progress: _Progress,
    into: Path | None = None,
) -> None:
    """Run the experiments in order (`into`: copies without the ledger probe go there), up
    to the first that does not end on its own with a journal: what it left behind is the
    reset's to undo, and no further fault goes onto the target before that."""
    for index, path in enumerate(paths):
        chosen = path if into is None else without_ledger_probe(path, into)
        result = run_experiment(chosen, out, env, limits, signals)
        progress.runs[path.stem] = result
        print(f"chaos: {path.stem}: {result.status()}", flush=True)
        if not result.completed:
            progress.notes.append(f"{path.stem}: {result.describe()}")
            if index + 1 < len(paths):
                progress.notes.append(f"{len(paths) - index - 1} experiments not run after it")
            return


def _run_remote(
    target: Target,
    paths: list[Path],
    out: Path,
    base_env: Mapping[str, str],
    limits: Limits,
    signals: HarnessSignals,
    progress: _Progress,
) -> None:
    state = out / "state"
    state.mkdir(exist_ok=True)
    env = {**base_env, **target.env(), "ASSAY_CHAOS_STATE_DIR": str(state)}
    progress.notes.append(f"remote target: ran only HTTP experiments ({len(paths)})")
    if not target.ledgers:
        progress.notes.append(
            "money reconciliation not run: the target exposes no gateway ledgers "
            "(ASSAY_GATEWAY_LEDGERS); the experiments ran without gateway-ledgers-agree"
        )
    into = None if target.ledgers else state / "experiments"
    try:
        _run_all(paths, out, env, limits, signals, progress, into)
    finally:
        signals.cleanup_begins()
        progress.faults = reset_faults(target.base_url, target.admin, target.ledgers)


def _run_on_stack(
    paths: list[Path],
    out: Path,
    base_env: Mapping[str, str],
    limits: Limits,
    signals: HarnessSignals,
    progress: _Progress,
    settings: Mapping[str, str],
) -> None:
    clock = time.monotonic()
    progress.notes.append(f"service settings: {dict(settings)}")
    logs = out / "stack-logs"
    with provisioned_stack(out / "stack.json", settings=settings, keep_logs=logs) as stack:
        progress.notes.append(f"stack up in {time.monotonic() - clock:.1f} s")
        try:
            warm_up(stack.service_url, stack.root)
            env = {**base_env, "ASSAY_STACK_FILE": str(stack.descriptor)}
            _run_all(paths, out, env, limits, signals, progress)
        finally:
            # A signal from here on is only recorded: the reset and the teardown finish.
            signals.cleanup_begins()
            progress.faults = reset_stack_faults(stack.descriptor)


def run_chaos(
    run: Run,
    target: Target,
    settings: Mapping[str, str] | None = None,
    *,
    experiments_dir: Path = EXPERIMENTS_DIR,
) -> Summary:
    """Chaos Toolkit experiments on the local provisioned stack (or HTTP-only ones remotely)."""
    out = run.suite_dir(NAME)
    only = [p for p in os.environ.get("ASSAY_CHAOS_EXPERIMENTS", "").split(",") if p.strip()]
    remote = not _own_stack(target)
    paths = experiments(http_only=remote, only=only or None, directory=experiments_dir)
    if not paths:
        raise SuiteError("no chaos experiment selected")
    try:
        limits = Limits.from_env()
    except ValueError as exc:
        raise SuiteError(str(exc)) from exc
    base_env = {k: v for k, v in os.environ.items() if k not in STACK_ENV}
    started, clock = utcnow(), time.monotonic()
    progress = _Progress()
    unjudged = traffic.latency_unjudged_because()
    if unjudged is not None:
        progress.notes.append(f"latency SLOs measured, not judged: {unjudged}")
    with HarnessSignals() as signals:
        try:
            if remote:
                _run_remote(target, paths, out, base_env, limits, signals, progress)
            else:
                chosen = {
                    **STACK_SETTINGS,
                    **_settings(os.environ.get("ASSAY_CHAOS_SETTINGS", "")),
                    **(settings or {}),
                }
                _run_on_stack(paths, out, base_env, limits, signals, progress, chosen)
        except HarnessStopped:
            pass  # `signals` holds it; the experiment was stopped and the reset ran on the way
        except StackError as exc:
            raise SuiteError(str(exc)) from exc
    if signals.received is not None:
        progress.notes.append(f"the harness was stopped ({signals.received.name})")
    summary = summarize(
        out,
        run.directory,
        paths,
        started,
        time.monotonic() - clock,
        progress.notes,
        runs=progress.runs,
        faults=progress.faults,
    )
    if signals.received is not None:
        run.record_suite(summary)  # the harness stops here: nobody else records it
        raise signals.exit_exception()
    return summary


def _own_stack(target: Target) -> bool:
    """A local target's chaos runs on a stack of its own; a remote one's, on the target."""
    return target.kind is not TargetKind.REMOTE


SUITE = Suite(
    name=NAME,
    run=run_chaos,
    description=run_chaos.__doc__ or "",
    order=40,
    own_target=_own_stack,
)
