"""Traceability: one row per (requirement, test or experiment, run), plus coverage."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from assay.coverage import Standing, requirement_standing, why_not_evidence
from assay.summary import Verdict
from reports.figures import KINDS, ReportData

COLUMNS = [
    "requirement_id",
    "requirement_title",
    "seed_sections",
    "check_id",
    "kind",
    "suite",
    "run_id",
    "run_started_at",
    "result",
    "control_ids",
    "risk_ids",
    "adr_ids",
    "evidence_paths",
    "evidence_sha256",
    "not_evidence_because",  # empty when the row is evidence (assay.coverage's one rule)
]
JUDGED = {Standing.PASS, Standing.EXCEPTIONS, Standing.FAIL}


class TraceabilityError(Exception):
    """The traceability rows do not add up to the run's catalog links."""


@dataclass(frozen=True)
class Traceability:
    """The rows, the per-requirement coverage and the orphan tags (ids not in the catalog)."""

    rows: pd.DataFrame
    coverage: pd.DataFrame
    orphans: list[str]
    links: int


def _join(values: object) -> str:
    return ";".join(sorted({str(v) for v in values})) if isinstance(values, list | set) else ""


def _check_frame(data: ReportData) -> pd.DataFrame:
    records = [
        {
            "run_id": run.run_id,
            "run_started_at": run.record.started_at.isoformat(),
            "finished_at": summary.finished_at,
            "suite": suite,
            "check_id": check.id,
            "result": str(check.verdict),
            "requirement_id": r,
            "tagged_controls": check.controls,
            "evidence_path": check.evidence or [f"{suite}/summary.json"],
            "not_evidence_because": why_not_evidence(
                check,
                summary,
                [data.catalog.requirements[r]] if r in data.catalog.requirements else [],
            ),
        }
        for run in data.runs
        for suite, summary in run.summaries.items()
        for check in summary.checks
        for r in check.requirements
    ]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=["requirement_id", "run_id", "check_id", "suite", "result"])
    return frame


def _requirement_frame(data: ReportData) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "requirement_id": r.id,
                "requirement_title": r.title,
                "seed_sections": ";".join(r.seed),
                "catalog_controls": r.controls,
                "risk_ids": ";".join(r.risks),
                "adr_ids": ";".join(r.adrs),
                "untested_reason": r.untested_reason or "",
            }
            for r in data.catalog.requirements.values()
        ]
    )


def build(data: ReportData) -> Traceability:
    """Join the run's checks to the catalog and to its evidence items (sha256)."""
    checks = _check_frame(data)
    requirements = _requirement_frame(data)
    current = checks[checks["run_id"] == data.run.run_id] if not checks.empty else checks
    joined = current.merge(requirements, on="requirement_id", how="left", indicator=True)
    orphans = sorted(set(joined.loc[joined["_merge"] == "left_only", "requirement_id"]))
    rows = joined[joined["_merge"] == "both"].drop(columns="_merge").copy()
    digests = {i.path: i.sha256 for i in data.manifest.items}
    if not rows.empty:
        # Paths and their digests as pairs, in the same order: position i of one column is
        # the file at position i of the other (a file not in the run has an empty digest).
        cited = [sorted(set(paths)) for paths in rows["evidence_path"]]
        rows["evidence_paths"] = [";".join(paths) for paths in cited]
        rows["evidence_sha256"] = [";".join(digests.get(p, "") for p in paths) for paths in cited]
        rows = rows.drop(columns="evidence_path")
        rows["control_ids"] = [
            _join(set(a) | set(b))
            for a, b in zip(rows["tagged_controls"], rows["catalog_controls"], strict=True)
        ]
        rows["kind"] = rows["suite"].where(rows["suite"].isin(KINDS), "other")
    rows = rows.reindex(columns=COLUMNS).sort_values(["requirement_id", "kind", "check_id"])
    rows = rows.reset_index(drop=True)
    links = len(current)
    if len(rows) + int((joined["_merge"] == "left_only").sum()) != links:
        raise TraceabilityError(f"{len(rows)} rows + orphans != {links} requirement links")
    return Traceability(
        rows=rows, coverage=coverage(data, checks, requirements), orphans=orphans, links=links
    )


def coverage(data: ReportData, checks: pd.DataFrame, requirements: pd.DataFrame) -> pd.DataFrame:
    """Per requirement over the run history: covered, failing, stale, unjudged or no-test.

    Each run's standing comes from assay.coverage (skipped checks and too-small load runs are
    not evidence); the newest run with evidence decides, its age against the freshness window.
    """
    del checks  # the rows are per link; standings come from the one linking rule
    as_of = data.run.record.finished_at
    freshness = {c.id: c.freshness_days for c in data.catalog.controls.values()}
    out = []
    for req in requirements.itertuples():
        req_id = str(req.requirement_id)
        controls: list[str] = list(req.catalog_controls)  # type: ignore[arg-type]
        window = min((freshness.get(c, 7) for c in controls), default=7)
        history = [(run, requirement_standing(run, data.catalog, req_id)) for run in data.runs]
        judged = [(run, s) for run, s in history if s.standing in JUDGED]
        unjudged = [(run, s) for run, s in history if s.standing is Standing.UNJUDGED]
        status, latest_run, latest_result, passing_run, age = "no-test", "", "", "", None
        reason = str(req.untested_reason or "") or "no check in any run links to it"
        if judged:
            run, latest = judged[-1]
            latest_run, reason = run.run_id, latest.reason
            latest_result = "fail" if latest.standing is Standing.FAIL else "pass"
            passed = [(r, s) for r, s in judged if s.standing is not Standing.FAIL]
            if passed:
                passing_run = passed[-1][0].run_id
                finished = max(k.finished_at for k in passed[-1][1].links if k.counts)
                age = (as_of - finished).total_seconds() / 86400
            if latest.standing is Standing.FAIL:
                status = "failing"
            elif age is not None and age > window:
                status = "stale"
            else:
                status = "covered"
        elif unjudged:
            run, latest = unjudged[-1]
            status, latest_run, reason = "unjudged", run.run_id, latest.reason
        out.append(
            {
                "requirement_id": req_id,
                "requirement_title": req.requirement_title,
                "status": status,
                "reason": reason,
                "latest_run": latest_run,
                "latest_result": latest_result,
                "latest_passing_run": passing_run,
                "age_days": round(age, 1) if age is not None else None,
                "freshness_days": window,
                "untested_reason": req.untested_reason,
            }
        )
    order = {"failing": 0, "unjudged": 1, "no-test": 2, "stale": 3, "covered": 4}
    frame = pd.DataFrame(out)
    return frame.sort_values(
        by=["status", "requirement_id"], key=lambda s: s.map(order) if s.name == "status" else s
    ).reset_index(drop=True)


def totals(trace: Traceability) -> dict[str, int]:
    """Row count check and coverage counts, for the CLI and the other reports."""
    counts = trace.coverage["status"].value_counts().to_dict()
    return {
        "rows": len(trace.rows),
        "links": trace.links,
        "orphan_tags": len(trace.orphans),
        "requirements": len(trace.coverage),
        **{
            k: int(counts.get(k, 0)) for k in ("covered", "failing", "stale", "unjudged", "no-test")
        },
    }


def is_pass(result: str) -> bool:
    """Whether a row's result is a pass (a warning is not: it is a pass with exceptions)."""
    return result == Verdict.PASS
