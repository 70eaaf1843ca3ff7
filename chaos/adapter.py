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
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
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
from infra.local.descriptor import StackError
from infra.local.stack import provisioned_stack

NAME = "chaos"
EXPERIMENTS_DIR = Path(__file__).resolve().parent / "experiments"
EXPERIMENT_TIMEOUT_S = 240
STACK_ENV = ("ASSAY_STACK_FILE", "ASSAY_TARGET_URL", "ASSAY_CHAOS_STATE_DIR")
# The stack's service settles what a fault leaves pending within seconds, not minutes, so the
# ledger check after each experiment can wait for it: a pending order is settled by key once
# its reservation expires, and the sweep looks every second.
STACK_SETTINGS = {"RESERVATION_TTL_S": "15", "SWEEP_INTERVAL_S": "1"}


def needs(path: Path) -> list[str]:
    """What an experiment needs (`stack` or `http`), from its `assay` extension."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for extension in data.get("extensions", []):
        if extension.get("name") == "assay":
            return [str(n) for n in extension.get("needs", ["stack"])]
    return ["stack"]


def experiments(http_only: bool, only: list[str] | None = None) -> list[Path]:
    """The local experiments to run, in name order (Kubernetes variants live elsewhere)."""
    chosen = []
    for path in sorted(EXPERIMENTS_DIR.glob("*.json")):
        if only and not any(path.stem.startswith(prefix) for prefix in only):
            continue
        if http_only and needs(path) != ["http"]:
            continue
        chosen.append(path)
    return chosen


def chaos_command(experiment: Path, journal: Path, log: Path) -> list[str]:
    """`chaos run` with rollbacks always played."""
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


def run_experiment(experiment: Path, out: Path, env: Mapping[str, str]) -> Path:
    """Run one experiment; returns its journal (SuiteError if chaos wrote none)."""
    journal = out / f"{experiment.stem}.journal.json"
    log = out / f"{experiment.stem}.log"
    journal.unlink(missing_ok=True)
    try:
        subprocess.run(  # noqa: S603 - chaostoolkit from our own environment
            chaos_command(experiment, journal, log),
            env=dict(env),
            timeout=EXPERIMENT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SuiteError(f"{experiment.stem} ran over {EXPERIMENT_TIMEOUT_S} s") from exc
    if not journal.exists():
        raise SuiteError(f"chaos wrote no journal for {experiment.stem}; see {log.name}")
    return journal


def _check(path: Path, result: ExperimentResult, rel: str) -> Check:
    catalog = load_catalog()
    requirements = [t for t in result.tags if t in catalog.requirements]
    controls = sorted({c for r in requirements for c in catalog.requirements[r].controls})
    reasons = result.reasons()
    return Check(
        id=f"chaos/experiments/{path.name}",
        title=result.title,
        requirements=requirements,
        controls=controls,
        verdict=Verdict.PASS if result.passed else Verdict.FAIL,
        duration_s=round(result.duration_s, 2),
        evidence=[f"{rel}/{path.stem}.journal.json"],
        message="\n".join(reasons) if reasons else None,
    )


def summarize(
    out: Path, run_dir: Path, paths: list[Path], started: Any, duration_s: float, notes: list[str]
) -> Summary:
    """summary.json from the journals in `out`."""
    rel = out.relative_to(run_dir).as_posix()
    results: dict[str, ExperimentResult] = {}
    checks = []
    for path in paths:
        journal = out / f"{path.stem}.journal.json"
        if journal.exists():
            results[path.stem] = read_journal(journal)
            checks.append(_check(path, results[path.stem], rel))
    errors = len(paths) - len(checks)
    journals = [out / f"{p.stem}.journal.json" for p in paths if p.stem in results]
    ledger, ledger_metrics = ledger_record(journals, run_dir)
    if ledger is not None:
        checks.append(ledger)
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


def run_chaos(run: Run, target: Target, settings: Mapping[str, str] | None = None) -> Summary:
    """Chaos Toolkit experiments on the local provisioned stack (or HTTP-only ones remotely)."""
    out = run.suite_dir(NAME)
    only = [p for p in os.environ.get("ASSAY_CHAOS_EXPERIMENTS", "").split(",") if p.strip()]
    remote = target.kind is TargetKind.REMOTE
    paths = experiments(http_only=remote, only=only or None)
    if not paths:
        raise SuiteError("no chaos experiment selected")
    base_env = {k: v for k, v in os.environ.items() if k not in STACK_ENV}
    started, clock = utcnow(), time.monotonic()
    notes: list[str] = []
    if remote:
        state = out / "state"
        state.mkdir(exist_ok=True)
        env = {**base_env, **target.env(), "ASSAY_CHAOS_STATE_DIR": str(state)}
        notes.append(f"remote target: ran only HTTP experiments ({len(paths)})")
        if not target.ledgers:
            notes.append(
                "money reconciliation not run: the target exposes no gateway ledgers "
                "(ASSAY_GATEWAY_LEDGERS); the experiments ran without gateway-ledgers-agree"
            )
        for path in paths:
            chosen_path = (
                path if target.ledgers else without_ledger_probe(path, state / "experiments")
            )
            run_experiment(chosen_path, out, env)
    else:
        chosen = {
            **STACK_SETTINGS,
            **_settings(os.environ.get("ASSAY_CHAOS_SETTINGS", "")),
            **(settings or {}),
        }
        notes.append(f"service settings: {chosen}")
        try:
            with provisioned_stack(
                out / "stack.json", settings=chosen, keep_logs=out / "stack-logs"
            ) as stack:
                notes.append(f"stack up in {time.monotonic() - clock:.1f} s")
                warm_up(stack.service_url, stack.root)
                env = {**base_env, "ASSAY_STACK_FILE": str(stack.descriptor)}
                for path in paths:
                    run_experiment(path, out, env)
        except StackError as exc:
            raise SuiteError(str(exc)) from exc
    return summarize(out, run.directory, paths, started, time.monotonic() - clock, notes)


SUITE = Suite(name=NAME, run=run_chaos, description=run_chaos.__doc__ or "", order=40)
