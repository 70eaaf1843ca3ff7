"""What changed since the run before: the status page's section and the deck's comparisons."""

from __future__ import annotations

from dataclasses import replace

from assay.overall import of_run
from assay.record import Run
from assay.summary import Verdict
from reports.figures import ReportData, failing_checks, slo_groups


def previous(data: ReportData) -> ReportData | None:
    """The same report data for the run before this one, if the history has it."""
    earlier = [r for r in data.runs if r.run_id != data.run.run_id]
    return replace(data, run=earlier[-1]) if earlier else None


def _slo_verdicts(data: ReportData) -> dict[str, Verdict]:
    return {row.slo_id.split(" (")[0] + f" ({row.suite})": row.verdict for row in slo_groups(data)}


def _failing_ids(run: Run) -> set[str]:
    return {check for _, check, _, _ in failing_checks(run)}


def changes(data: ReportData, limit: int = 8) -> list[str]:
    """What changed since the run before: the overall verdict, suites and SLOs whose verdict
    moved, checks that started or stopped failing. Empty when nothing did; one line saying
    so when there is no run before."""
    before = previous(data)
    if before is None:
        return ["First run of this history: nothing to compare with."]
    was, now = of_run(before.run), of_run(data.run)
    lines = []
    if was.label != now.label:
        lines.append(f"Overall: {was.label} → {now.label}")
    old, new = before.run.record.suites, data.run.record.suites
    lines += [f"Suite {n}: {old[n]} → {v}" for n, v in sorted(new.items()) if old.get(n, v) != v]
    lines += [f"Suite {n}: new, {v}" for n, v in sorted(new.items()) if n not in old]
    slo_was, slo_now = _slo_verdicts(before), _slo_verdicts(data)
    lines += [
        f"{slo}: {slo_was[slo]} → {v}"
        for slo, v in sorted(slo_now.items())
        if slo in slo_was and slo_was[slo] != v
    ]
    started = sorted(_failing_ids(data.run) - _failing_ids(before.run))
    stopped = sorted(_failing_ids(before.run) - _failing_ids(data.run))
    lines += [f"Now failing: {check}" for check in started]
    lines += [f"No longer failing: {check}" for check in stopped]
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"… and {len(lines) - (limit - 1)} more changes"]
    return lines
