"""Every figure a report shows, each with the run file and JSON pointer it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from assay.catalog import Catalog, Comparison
from assay.manifest import Manifest, build_manifest
from assay.overall import Outcome, of_run
from assay.record import Run, history
from assay.summary import Verdict


class Cadence(StrEnum):
    """Which audience the status page is for (seed §12 reporting templates)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


FAILING = {Verdict.FAIL, Verdict.ERROR}
SCORES = {"low": 1, "medium": 2, "high": 3}
KINDS = {"acceptance", "contract", "perf", "chaos", "security"}


@dataclass(frozen=True)
class Figure:
    """A number and where it was read: `<run_id>/<file>#<json pointer>`."""

    value: float | None
    source: str


@dataclass(frozen=True)
class SloRow:
    """One SLO of the reported run against its catalog objective."""

    slo_id: str
    title: str
    objective: float
    unit: str
    observed: Figure
    verdict: Verdict
    budget_used_pct: float | None
    suite: str = ""
    scope: str | None = None  # None: the suite's overall figure
    base_id: str = ""  # the catalog's SLO id, without the scope


@dataclass(frozen=True)
class Point:
    """One run's value in a trend."""

    run_id: str
    at: datetime
    figure: Figure


@dataclass
class ReportData:
    """A run, the runs before it, the catalog, and the run's evidence manifest."""

    run: Run
    runs: list[Run]
    catalog: Catalog
    manifest: Manifest
    sources: list[str] = field(default_factory=list)


def load(run: Run, runs_dir: Path | None = None, limit: int = 12) -> ReportData:
    """Gather what every report needs, from run directories only."""
    return ReportData(
        run=run,
        runs=history(run, runs_dir, limit),
        catalog=run.catalog(),
        manifest=build_manifest(run),
    )


def budget_used(comparison: Comparison, objective: float, observed: float, unit: str) -> float:
    """Share of the allowed budget an observed value uses (100 = exactly at the objective)."""
    if comparison in (Comparison.LT, Comparison.LTE):
        return 100 * observed / objective if objective else 0.0
    if unit == "percent":  # e.g. availability 99.9: budget is the 0.1 that may fail
        allowed = 100 - objective
        return 100 * (100 - observed) / allowed if allowed else 0.0
    return 100 * objective / observed if observed else 100.0


def slo_rows(data: ReportData) -> list[SloRow]:
    """The run's SLO results, every suite, with catalog titles and budget use."""
    rows = []
    for suite, summary in sorted(data.run.summaries.items()):
        for index, slo in enumerate(summary.slos):
            known = data.catalog.slos.get(slo.id)
            used = None
            if known and slo.observed is not None:
                used = round(
                    budget_used(known.comparison, slo.objective, slo.observed, slo.unit), 1
                )
            source = f"{data.run.run_id}/{suite}/summary.json#/slos/{index}/observed"
            rows.append(
                SloRow(
                    slo_id=slo.id + (f" ({slo.scope})" if slo.scope else ""),
                    title=known.title if known else slo.id,
                    objective=slo.objective,
                    unit=slo.unit,
                    observed=Figure(slo.observed, source),
                    verdict=slo.verdict,
                    budget_used_pct=used,
                    suite=suite,
                    scope=slo.scope,
                    base_id=slo.id,
                )
            )
    return sorted(rows, key=lambda r: (r.verdict not in FAILING, r.slo_id))


_WORSE = {Verdict.FAIL: 4, Verdict.ERROR: 4, Verdict.WARNING: 3, Verdict.PASS: 2}


def slo_groups(data: ReportData) -> list[SloRow]:
    """One row per SLO of each suite: its worst result (by verdict, then budget used), the
    scope that had it named, so some 25 endpoint groups' latency read as one line."""
    worst: dict[tuple[str, str], SloRow] = {}
    for row in slo_rows(data):
        key = (row.suite, row.base_id)
        rank = (_WORSE.get(row.verdict, 1), row.budget_used_pct or 0.0)
        held = worst.get(key)
        if held is None or rank > (_WORSE.get(held.verdict, 1), held.budget_used_pct or 0.0):
            worst[key] = row
    grouped = []
    for (suite, slo_id), row in worst.items():
        where = f"{suite}, worst: {row.scope}" if row.scope else suite
        grouped.append(replace(row, slo_id=f"{slo_id} ({where})"))
    return sorted(grouped, key=lambda r: (r.verdict not in FAILING, r.slo_id))


MIN_TREND_POINTS = 3  # fewer runs than this make a dot or a line, not a trend


def too_little_history(title: str, points: int) -> str | None:
    """What a report says instead of drawing a trend from too few runs (None: enough)."""
    if points >= MIN_TREND_POINTS:
        return None
    runs = "1 run" if points == 1 else f"{points} runs"
    return (
        f"{title}: not enough history for a trend ({runs} so far; a trend needs "
        f"{MIN_TREND_POINTS})."
    )


def runs_of_history(count: int) -> str:
    """'1 run of history', '3 runs of history'."""
    return f"{count} run{'' if count == 1 else 's'} of history"


def slo_trend(data: ReportData, slo_id: str) -> list[Point]:
    """An SLO's overall observed value in each run that measured it, oldest first."""
    points = []
    for run in data.runs:
        for suite, summary in sorted(run.summaries.items()):
            for index, slo in enumerate(summary.slos):
                if slo.id == slo_id and slo.scope is None and slo.observed is not None:
                    source = f"{run.run_id}/{suite}/summary.json#/slos/{index}/observed"
                    points.append(
                        Point(run.run_id, run.record.started_at, Figure(slo.observed, source))
                    )
    return points


def suite_counts(run: Run) -> dict[str, dict[str, Figure]]:
    """passed / failed / skipped / errors per suite of one run."""
    return {
        suite: {
            name: Figure(float(value), f"{run.run_id}/{suite}/summary.json#/counts/{name}")
            for name, value in summary.counts.model_dump().items()
        }
        for suite, summary in sorted(run.summaries.items())
    }


def pass_rate(run: Run, suite: str) -> Figure | None:
    """Share of a suite's judged checks that passed, in percent."""
    summary = run.summaries.get(suite)
    if summary is None:
        return None
    judged = summary.counts.passed + summary.counts.failed + summary.counts.errors
    value = round(100 * summary.counts.passed / judged, 1) if judged else None
    return Figure(value, f"{run.run_id}/{suite}/summary.json#/counts")


def metric(run: Run, suite: str, *path: str) -> Figure | None:
    """A suite metric (summary.json `metrics`) by key path, if the run has it."""
    summary = run.summaries.get(suite)
    value: object = summary.metrics if summary else None
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Figure(float(value), f"{run.run_id}/{suite}/summary.json#/metrics/" + "/".join(path))


def failing_checks(run: Run) -> list[tuple[str, str, str, list[str]]]:
    """(suite, check id, message, requirements) of every failing check, suite order."""
    return [
        (suite, check.id, check.message or "", check.requirements)
        for suite, summary in sorted(run.summaries.items())
        for check in summary.checks
        if check.verdict in FAILING
    ]


BADGES = {
    Outcome.PASS: "pass",
    Outcome.PASS_WITH_EXCEPTIONS: "warn",
    Outcome.PARTIAL: "warn",
    Outcome.NOT_JUDGED: "warn",
    Outcome.FAIL: "fail",
}


def headline(run: Run) -> dict[str, str]:
    """The run's overall verdict (assay.overall, as the screen and run.json say it), badged."""
    verdict = of_run(run)
    return {"overall": verdict.label, "overall_badge": BADGES[verdict.outcome]}


def top_risks(data: ReportData, limit: int = 6) -> list[tuple[str, str, str, int, bool]]:
    """(id, title, owner, score, touched by a failing check) for the highest-scored risks."""
    failing_reqs = {r for _, _, _, reqs in failing_checks(data.run) for r in reqs}
    touched = {
        risk
        for req_id in failing_reqs
        if req_id in data.catalog.requirements
        for risk in data.catalog.requirements[req_id].risks
    }
    ranked = sorted(
        data.catalog.risks.values(),
        key=lambda r: (
            r.id not in touched,
            -SCORES.get(r.impact, 0) * SCORES.get(r.likelihood, 0),
            r.id,
        ),
    )
    return [
        (
            r.id,
            r.title,
            r.owner,
            SCORES.get(r.impact, 0) * SCORES.get(r.likelihood, 0),
            r.id in touched,
        )
        for r in ranked[:limit]
    ]


def dora(data: ReportData) -> dict[str, Figure]:
    """Delivery figures the runs support: releases per week, change failure rate, MTTR (hours)."""
    runs = data.runs
    figures: dict[str, Figure] = {}
    versions: dict[str, bool] = {}
    for run in runs:
        version = run.record.target.version
        if version:
            failed = any(v in FAILING for v in run.record.suites.values())
            versions[version] = versions.get(version, False) or failed
    span_days = (runs[-1].record.started_at - runs[0].record.started_at).total_seconds() / 86400
    source = f"{len(runs)} runs: run.json#/target/version, run.json#/suites"
    if versions and span_days > 0:
        weeks = max(span_days / 7, 1)
        figures["releases_per_week"] = Figure(round(len(versions) / weeks, 2), source)
    if versions:
        rate = 100 * sum(versions.values()) / len(versions)
        figures["change_failure_rate_pct"] = Figure(round(rate, 1), source)
    repairs = []
    broken_at: datetime | None = None
    for run in runs:
        failed = any(v in FAILING for v in run.record.suites.values())
        if failed and broken_at is None:
            broken_at = run.record.started_at
        elif not failed and broken_at is not None:
            repairs.append((run.record.finished_at - broken_at).total_seconds() / 3600)
            broken_at = None
    if repairs:
        mttr = round(sum(repairs) / len(repairs), 1)
        figures["mttr_hours"] = Figure(mttr, source + ", run.json#/finished_at")
    return figures


# Currencies whose minor unit is the unit itself; every other one has cents.
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}
NAMED_MISMATCHES = 3


def money(amounts: object) -> str:
    """`{"USD": 7500}` (minor units) -> `75.00 USD`; several currencies joined."""
    if not isinstance(amounts, dict) or not amounts:
        return "0"
    parts = []
    for currency, amount in sorted(amounts.items()):
        if not isinstance(amount, int):
            continue
        value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
        parts.append(f"{value} {currency}")
    return ", ".join(parts) or "0"


@dataclass(frozen=True)
class MoneyRow:
    """One suite's money reconciliation (its summary.json `metrics.ledger`)."""

    suite: str
    verdict: str  # held | mismatch | unsettled | error
    charges: int | None
    captures: int | None
    refunds: int | None
    captured: str
    refunded: str
    mismatches: int
    unsettled: int
    named: list[str]  # the first few mismatches (or what was left unsettled), readable
    source: str


def _count(block: dict[str, object], key: str) -> int | None:
    value = block.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _named(entries: object) -> list[str]:
    if not isinstance(entries, list):
        return []
    named = []
    for entry in entries[:NAMED_MISMATCHES]:
        if isinstance(entry, dict):
            where = entry.get("gateway") or entry.get("order_id")
            at = f" at {where}" if where else ""
            named.append(f"{entry.get('kind')}{at}: {entry.get('detail')}")
    return named


def money_rows(run: Run) -> list[MoneyRow]:
    """The money reconciliation of every suite that ran one, in suite order."""
    rows = []
    for suite, summary in sorted(run.summaries.items()):
        block = summary.metrics.get("ledger")
        if not isinstance(block, dict):
            continue
        source = f"{run.run_id}/{suite}/summary.json#/metrics/ledger"
        mismatches = block.get("mismatches") if isinstance(block.get("mismatches"), list) else []
        unsettled = block.get("unsettled") if isinstance(block.get("unsettled"), list) else []
        if "error" in block:
            verdict, named = "error", [str(block["error"])]
        elif mismatches:
            verdict, named = "mismatch", _named(mismatches)
        elif unsettled:
            verdict, named = "unsettled", _named(unsettled)
        else:
            verdict, named = "held", []
        rows.append(
            MoneyRow(
                suite=suite,
                verdict=verdict,
                charges=_count(block, "charges"),
                captures=_count(block, "captures"),
                refunds=_count(block, "refunds"),
                captured=money(block.get("captured_amount")),
                refunded=money(block.get("refunded_amount")),
                mismatches=len(mismatches or []),
                unsettled=len(unsettled or []),
                named=named,
                source=source,
            )
        )
    return rows
