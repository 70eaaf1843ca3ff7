"""The self-contained HTML status page (weekly ops or monthly exec), rendered with jinja2."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from assay import __version__
from assay.summary import Verdict
from reports import charts
from reports.changes import changes, previous
from reports.figures import (
    Cadence,
    ReportData,
    dora,
    failing_checks,
    headline,
    metric,
    money_rows,
    slo_groups,
    slo_rows,
    slo_trend,
    suite_counts,
    too_little_history,
    top_risks,
)
from reports.traceability import Traceability, totals

# Text and background pairs used by the page; tests hold each to WCAG AA (4.5:1).
PALETTE = {
    "ink": ("#1b1f24", "#ffffff"),
    "muted": ("#4b5563", "#ffffff"),
    "link": ("#0b5cad", "#ffffff"),
    "bad": ("#b3261e", "#ffffff"),
    "badge-fail": ("#ffffff", "#b3261e"),
    "badge-pass": ("#ffffff", "#1a7f37"),
    "badge-warn": ("#1b1f24", "#f2c94c"),
    "badge-skip": ("#1b1f24", "#d0d7de"),
    "header": ("#ffffff", "#1b1f24"),
    "row-bad": ("#1b1f24", "#fdecea"),
}
# The same pairs under a dark system preference (prefers-color-scheme), held to AA too.
DARK_PALETTE = {
    "ink": ("#e6e8eb", "#14171a"),
    "muted": ("#aab2bd", "#14171a"),
    "link": ("#8ab4f8", "#14171a"),
    "bad": ("#ff8a80", "#14171a"),
    "badge-fail": ("#ffffff", "#b3261e"),
    "badge-pass": ("#ffffff", "#1a7f37"),
    "badge-warn": ("#1b1f24", "#f2c94c"),
    "badge-skip": ("#1b1f24", "#d0d7de"),
    "header": ("#e6e8eb", "#000000"),
    "row-bad": ("#e6e8eb", "#4a1f1c"),
}


def _css(palette: dict[str, tuple[str, str]]) -> str:
    """The palette's classes, and the page's own text, background and links in its colours."""
    ink, link = palette["ink"], palette["link"]
    return "\n".join(
        [
            f"body{{color:{ink[0]};background:{ink[1]}}}",
            f"a{{color:{link[0]}}}",
            *(f".{name}{{color:{fg};background:{bg}}}" for name, (fg, bg) in palette.items()),
        ]
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: "n/a" if v is None or v != v else f"{v:g}"  # None or NaN
    env.filters["anchor"] = lambda path: "ev-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    env.filters["badge"] = verdict_badge
    return env


def verdict_badge(verdict: str) -> str:
    """The badge a verdict wears: skipped and unjudged are grey, never a pass's green."""
    if verdict in {Verdict.FAIL, Verdict.ERROR}:
        return "fail"
    if verdict == Verdict.WARNING:
        return "warn"
    return "pass" if verdict == Verdict.PASS else "skip"


def _trend_chart(data: ReportData, slo_id: str) -> dict[str, str] | None:
    slo = data.catalog.slos.get(slo_id)
    points = slo_trend(data, slo_id)
    if slo is None:
        return None
    if note := too_little_history(slo.title, len(points)):
        return {"note": note}
    labels = [f"{p.at:%m-%d}" for p in points]
    values = [p.figure.value or 0.0 for p in points]
    described = ", ".join(
        f"{label}: {value:g} {slo.unit}" for label, value in zip(labels, values, strict=True)
    )
    return {
        "src": charts.trend(labels, values, slo.objective, slo.unit, slo.title),
        "alt": (
            f"Line chart of {slo.title} per run ({described}); "
            f"objective {slo.objective:g} {slo.unit}."
        ),
        "caption": f"{slo.title} across {len(points)} runs; dashed line is the objective.",
        "sources": "; ".join(p.figure.source for p in points),
    }


def _suite_chart(data: ReportData) -> dict[str, str] | None:
    counts = suite_counts(data.run)
    if not counts:
        return None
    names = ("passed", "failed", "skipped")
    series = {n: [counts[s][n].value or 0.0 for s in counts] for n in names}
    described = "; ".join(
        f"{s}: " + ", ".join(f"{counts[s][n].value:g} {n}" for n in names) for s in counts
    )
    return {
        "src": charts.stacked(list(counts), series, "Checks per suite"),
        "alt": f"Stacked bar chart of checks per suite ({described}).",
        "caption": "Checks per suite in this run.",
        "sources": f"{data.run.run_id}/<suite>/summary.json#/counts",
    }


def context(data: ReportData, trace: Traceability, cadence: Cadence) -> dict[str, Any]:
    """Everything the template shows, already ordered with failing items first."""
    sha = {i.path: i.sha256 for i in data.manifest.items}
    failing = [
        {
            "suite": s,
            "check": c,
            "message": m,
            "requirements": r,
            "evidence": [(p, sha.get(p, "")) for p in _evidence(data, s, c)],
        }
        for s, c, m, r in failing_checks(data.run)
    ]
    coverage = trace.coverage
    record = data.run.record
    return {
        "cadence": cadence.value,
        "title": f"{'Weekly ops' if cadence == Cadence.WEEKLY else 'Monthly exec'} status",
        "run": data.run,
        "record": record,
        **headline(data.run),
        "changes": changes(data),
        "previous_run": (previous(data) or data).run.run_id,
        "verdicts": data.manifest.verdicts,
        "failing": failing,
        "slos": slo_groups(data),
        "slo_details": slo_rows(data),
        "attention": coverage[coverage["status"] != "covered"].to_dict("records"),
        "totals": totals(trace),
        "charts": [
            c
            for c in (
                _trend_chart(data, "SLO-LATENCY-P95"),
                _trend_chart(data, "SLO-ERROR-RATE"),
                _suite_chart(data),
            )
            if c
        ],
        "runs": list(reversed(data.runs)),
        "dora": dora(data),
        "resilience": metric(data.run, "chaos", "resilience_score"),
        "chaos": data.run.summaries["chaos"].checks if "chaos" in data.run.summaries else [],
        "findings": {
            sev: metric(data.run, "security", "findings", sev)
            for sev in ("critical", "high", "medium", "low")
        },
        "risks": top_risks(data),
        "money": money_rows(data.run),
        "items": data.manifest.items,
        "version": __version__,
    }


def _evidence(data: ReportData, suite: str, check_id: str) -> list[str]:
    summary = data.run.summaries[suite]
    check = next(c for c in summary.checks if c.id == check_id)
    return check.evidence or [f"{suite}/summary.json"]


def render(data: ReportData, trace: Traceability, cadence: Cadence = Cadence.WEEKLY) -> bytes:
    """The status page as UTF-8 bytes: one file, charts inline, no external requests."""
    template = _environment().get_template("status.html.j2")
    css = f"{_css(PALETTE)}\n@media (prefers-color-scheme: dark){{\n{_css(DARK_PALETTE)}\n}}"
    return template.render(css=css, **context(data, trace, cadence)).encode("utf-8")
