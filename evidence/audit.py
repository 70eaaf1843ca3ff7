"""Freshness audit: each control's latest passing evidence across a runs directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from assay.catalog import Catalog
from assay.summary import Check, Verdict
from evidence.run import Run

FAILING = {Verdict.FAIL, Verdict.ERROR}


class Freshness(StrEnum):
    """How a control's evidence stands."""

    OK = "ok"
    NONE = "none"
    FAILING = "failing"
    STALE = "stale"


@dataclass(frozen=True)
class ControlAudit:
    """One control's evidence status."""

    control_id: str
    title: str
    status: Freshness
    freshness_days: int
    latest_run: str | None
    latest_passing_run: str | None
    latest_passing_at: datetime | None
    age_days: float | None

    @property
    def flagged(self) -> bool:
        """Whether the control needs attention."""
        return self.status != Freshness.OK


def linked_checks(run: Run, catalog: Catalog, control_id: str) -> list[tuple[datetime, Check]]:
    """Checks in this run's evidence suites for the control (tagged, or via a requirement)."""
    control = catalog.controls[control_id]
    found = []
    for suite, summary in run.summaries.items():
        if control.evidence and suite not in control.evidence:
            continue
        for check in summary.checks:
            linked = set(check.controls)
            for req in check.requirements:
                if req in catalog.requirements:
                    linked.update(catalog.requirements[req].controls)
            if control_id in linked and check.verdict != Verdict.SKIPPED:
                found.append((summary.finished_at, check))
    return found


def audit(runs: list[Run], catalog: Catalog, as_of: datetime) -> list[ControlAudit]:
    """Audit every catalog control over `runs` (any order) as of a moment."""
    newest_first = sorted(runs, key=lambda r: r.record.started_at, reverse=True)
    results = []
    for control_id, control in catalog.controls.items():
        latest: str | None = None
        latest_failing = False
        passing: tuple[str, datetime] | None = None
        for run in newest_first:
            checks = linked_checks(run, catalog, control_id)
            if not checks:
                continue
            failed = any(c.verdict in FAILING for _, c in checks)
            if latest is None:
                latest, latest_failing = run.run_id, failed
            if not failed:
                passing = (run.run_id, max(t for t, _ in checks))
                break
        age = (as_of - passing[1]).total_seconds() / 86400 if passing else None
        if latest is None:
            status = Freshness.NONE
        elif latest_failing:
            status = Freshness.FAILING
        elif age is not None and age > control.freshness_days:
            status = Freshness.STALE
        else:
            status = Freshness.OK
        results.append(
            ControlAudit(
                control_id=control_id,
                title=control.title,
                status=status,
                freshness_days=control.freshness_days,
                latest_run=latest,
                latest_passing_run=passing[0] if passing else None,
                latest_passing_at=passing[1] if passing else None,
                age_days=round(age, 1) if age is not None else None,
            )
        )
    return results
