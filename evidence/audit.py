"""Freshness audit: each control's latest passing evidence across a runs directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from assay.catalog import Catalog
from assay.coverage import ControlState, control_standing
from assay.record import Run
from assay.summary import Check


class Freshness(StrEnum):
    """How a control's evidence stands."""

    OK = "ok"
    EXCEPTIONS = "ok-with-exceptions"  # passed, with warnings or waivers (named in the pack)
    PARTIAL = "partial"  # a requirement mapped to the control has no passing evidence
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
    """The run's evidence for the control, by the one linking rule (assay.coverage)."""
    return [
        (link.finished_at, link.check) for link in control_standing(run, catalog, control_id).links
    ]


_LATEST = {
    ControlState.SATISFIED: Freshness.OK,
    ControlState.EXCEPTIONS: Freshness.EXCEPTIONS,
    ControlState.PARTIAL: Freshness.PARTIAL,
}


def audit(runs: list[Run], catalog: Catalog, as_of: datetime) -> list[ControlAudit]:
    """Audit every catalog control over `runs` (any order) as of a moment.

    A run that ended after `as_of` is not counted: evidence cannot be younger than the audit.
    """
    counted = [r for r in runs if r.record.finished_at <= as_of]
    newest_first = sorted(counted, key=lambda r: r.record.started_at, reverse=True)
    results = []
    for control_id, control in catalog.controls.items():
        latest: str | None = None
        latest_state = ControlState.NOT_SATISFIED
        passing: tuple[str, datetime] | None = None
        for run in newest_first:
            standing = control_standing(run, catalog, control_id)
            if not standing.has_evidence:
                continue
            if latest is None:
                latest, latest_state = run.run_id, standing.state
            if not standing.failing:
                passing = (run.run_id, max(link.finished_at for link in standing.links))
                break
        age = (as_of - passing[1]).total_seconds() / 86400 if passing else None
        if latest is None:
            status = Freshness.NONE
        elif latest_state is ControlState.NOT_SATISFIED:
            status = Freshness.FAILING
        elif age is not None and age > control.freshness_days:
            status = Freshness.STALE
        else:
            status = _LATEST[latest_state]
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
