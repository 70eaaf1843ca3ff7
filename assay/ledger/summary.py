"""A suite's record of the money reconciliation: `metrics.ledger` and `ledger::gateways-agree`."""

from __future__ import annotations

import time

from assay.catalog import load_catalog
from assay.ledger.fetch import (
    DEFAULT_SETTLE_TIMEOUT_S,
    DEFAULT_WINDOW_S,
    LedgerError,
    check_target,
)
from assay.ledger.models import LedgerReport
from assay.summary import Check, Summary, Verdict
from assay.target import Target

CHECK_ID = "ledger::gateways-agree"
CHECK_TITLE = "The gateways' ledgers agree with the service's orders"
# Exactly one capture per order is the requirement the ledgers are the oracle for.
REQUIREMENTS = ("REQ-PAY-003",)


def ledger_check(
    report: LedgerReport | None, *, error: str | None = None, duration_s: float | None = None
) -> Check:
    """The check for a report (pass/fail), or `error` when the ledgers could not be read."""
    catalog = load_catalog()
    known = [catalog.requirements[r] for r in REQUIREMENTS if r in catalog.requirements]
    controls = sorted({c for requirement in known for c in requirement.controls})
    if report is None:
        verdict, message = Verdict.ERROR, error or "the ledgers could not be read"
    else:
        verdict = Verdict.PASS if report.held else Verdict.FAIL
        message = report.headline()
    return Check(
        id=CHECK_ID,
        title=CHECK_TITLE,
        requirements=list(REQUIREMENTS),
        controls=controls,
        verdict=verdict,
        duration_s=round(duration_s, 3) if duration_s is not None else None,
        message=message,
    )


def with_ledger(summary: Summary, check: Check, report: LedgerReport | None) -> Summary:
    """`summary` with the check added, counted, `metrics.ledger` set, and failed if it failed."""
    ledger = report.to_dict() if report is not None else {"error": check.message}
    return summary.with_check(check, {"ledger": ledger})


def record_ledger(
    summary: Summary,
    target: Target,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    settle_timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S,
) -> Summary:
    """Reconcile the target's gateways with its orders and record it in `summary`; a target
    without ledgers gets a note instead."""
    if not target.ledgers:
        note = "money reconciliation not run: the target exposes no gateway ledgers"
        return summary.model_copy(update={"notes": [*summary.notes, note]})
    started = time.monotonic()
    report: LedgerReport | None = None
    error: str | None = None
    try:
        report = check_target(target, window_s=window_s, settle_timeout_s=settle_timeout_s)
    except LedgerError as exc:
        error = str(exc)
    check = ledger_check(report, error=error, duration_s=time.monotonic() - started)
    return with_ledger(summary, check, report)
