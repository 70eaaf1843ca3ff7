"""The chaos suite's money record: every experiment's ledger probe -> one check and figures.

Each experiment reconciles the gateways' ledgers with the service's orders before and after
its fault (`gateway_ledgers_agree` in its steady-state hypothesis). The suite's
`ledger::gateways-agree` check fails if any of those did not hold; `metrics.ledger` carries
the figures of the last reconciliation (the ledgers are cumulative over the stack's life, so
the last one covers every experiment) and each experiment's before/after outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.catalog import load_catalog
from assay.ledger.summary import CHECK_ID, CHECK_TITLE, REQUIREMENTS
from assay.summary import Check, Verdict

LEDGER_FUNC = "gateway_ledgers_agree"
LEDGER_PROBE = "gateway-ledgers-agree"


@dataclass(frozen=True)
class LedgerRun:
    """One run of the ledger probe: in which experiment and phase, its outcome and figures."""

    experiment: str
    phase: str
    held: bool | None
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)


def _run(experiment: str, phase: str, entry: dict[str, Any]) -> LedgerRun | None:
    provider = entry.get("activity", {}).get("provider", {})
    if provider.get("func") != LEDGER_FUNC:
        return None
    if entry.get("status") == "failed":
        lines = entry.get("exception") or ["failed"]
        return LedgerRun(experiment, phase, False, str(lines[-1]).strip())
    output = entry.get("output")
    if not isinstance(output, dict):
        return LedgerRun(experiment, phase, None, "no output")
    figures = {k: v for k, v in output.items() if k not in {"held", "reason"}}
    return LedgerRun(experiment, phase, output.get("held"), str(output.get("reason")), figures)


def ledger_runs(journal: Path) -> list[LedgerRun]:
    """The ledger probe's runs a journal records, in order (before, method, after)."""
    data = json.loads(journal.read_text(encoding="utf-8"))
    experiment = journal.name.removesuffix(".journal.json")
    states = data.get("steady_states") or {}
    entries = [("before", e) for e in (states.get("before") or {}).get("probes", [])]
    entries += [("method", e) for e in data.get("run", [])]
    entries += [("after", e) for e in (states.get("after") or {}).get("probes", [])]
    return [run for phase, e in entries if (run := _run(experiment, phase, e)) is not None]


def ledger_record(journals: list[Path], run_dir: Path) -> tuple[Check | None, dict[str, Any]]:
    """The suite's `ledger::gateways-agree` check and `metrics.ledger` from its journals
    (no check when no journal ran the probe)."""
    runs = {path: ledger_runs(path) for path in journals}
    runs = {path: found for path, found in runs.items() if found}
    every = [run for found in runs.values() for run in found]
    if not every:
        return None, {}
    broken = [run for run in every if run.held is False]
    last = next((run.figures for run in reversed(every) if run.figures), {})
    metrics = {
        **last,
        "held": not broken,
        "checks": len(every),
        "experiments": {
            run.experiment: {r.phase: r.held for r in every if r.experiment == run.experiment}
            for run in every
        },
    }
    known = [req for r, req in load_catalog().requirements.items() if r in REQUIREMENTS]
    controls = sorted({c for req in known for c in req.controls})
    if broken:
        message = "\n".join(f"{r.experiment} ({r.phase}): {r.reason}" for r in broken)
    else:
        message = (
            f"held in all {len(every)} reconciliations of {len(runs)} experiments: "
            f"{last.get('captures', 0)} captures, {last.get('refunds', 0)} refunds, "
            f"{last.get('confirmed_orders', 0)} confirmed orders"
        )
    check = Check(
        id=CHECK_ID,
        title=CHECK_TITLE,
        requirements=list(REQUIREMENTS),
        controls=controls,
        verdict=Verdict.FAIL if broken else Verdict.PASS,
        evidence=[path.relative_to(run_dir).as_posix() for path in runs],
        message=message,
    )
    return check, metrics
