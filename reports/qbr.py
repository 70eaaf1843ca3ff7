"""The QBR deck: native, editable PowerPoint charts; slide notes name each number's run file."""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.presentation import Presentation as Deck
from pptx.util import Inches, Pt

from assay.summary import Verdict
from reports.figures import (
    FAILING,
    Figure,
    ReportData,
    dora,
    failing_checks,
    metric,
    money_rows,
    pass_rate,
    runs_of_history,
    slo_groups,
    slo_trend,
    too_little_history,
    top_risks,
)
from reports.glance import decision_slide, headline_slide
from reports.slides import (
    TOP,
    Sources,
    bullets,
    chart,
    new_slide,
    table,
    table_and_chart_box,
)
from reports.traceability import Traceability, totals

SEVERITIES = ("critical", "high", "medium", "low")


def _labels(data: ReportData) -> list[str]:
    return [
        f"{r.record.started_at:%m-%d} {r.record.target.version or r.run_id[-6:]}" for r in data.runs
    ]


def _budget(verdict: Verdict, used: float | None) -> str:
    """Budget used, as the status page shows it: an SLO not judged spends none."""
    if verdict in NOT_JUDGED:
        return "not judged"
    return f"{used:g} %" if used is not None else "n/a"


NOT_JUDGED = {Verdict.SKIPPED, Verdict.UNJUDGED}


def _slo_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    rows = []
    grouped = slo_groups(data)  # one row per SLO of each suite, its worst scope named
    for row in grouped:
        observed = notes.add(row.slo_id, row.observed)
        rows.append(
            [
                row.slo_id,
                f"{row.objective:g} {row.unit}",
                f"{observed:g} {row.unit}" if observed is not None else "n/a",
                str(row.verdict),
                _budget(row.verdict, row.budget_used_pct),
            ]
        )
    slide = new_slide(
        deck, "SLO attainment vs objectives", notes, "Budget used: 100 % = at the objective."
    )
    if not rows:
        table(slide, ["SLO"], [["No SLO results in this run"]])
        return notes
    table_bottom, box = table_and_chart_box(len(rows))
    header = ["SLO", "Objective", "Observed", "Verdict", "Budget used"]
    table(slide, header, rows, TOP, table_bottom, widths=[4.2, 1.1, 1.2, 1.0, 1.5])
    used = {f"{r.base_id} ({r.suite})": r.budget_used_pct for r in grouped}
    chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        list(used),
        {"Budget used (%)": list(used.values())},
        "Error budget used (%)",
        box,
    )
    return notes


def _trend_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    slide = new_slide(deck, "Latency and error trends across runs", notes)
    for index, slo_id in enumerate(("SLO-LATENCY-P95", "SLO-ERROR-RATE")):
        slo = data.catalog.slos.get(slo_id)
        points = {
            p.run_id: notes.add(f"{slo_id} {p.run_id}", p.figure) for p in slo_trend(data, slo_id)
        }
        values = [points.get(r.run_id) for r in data.runs]
        if slo is None:
            continue
        if note := too_little_history(slo.title, len(points)):
            frame = slide.shapes.add_textbox(
                Inches(0.5 + 4.6 * index), TOP, Inches(4.5), Inches(1.2)
            ).text_frame
            frame.word_wrap = True
            frame.text = note
            frame.paragraphs[0].font.size = Pt(16)
            continue
        chart(
            slide,
            XL_CHART_TYPE.LINE_MARKERS,
            _labels(data),
            {"observed": values, "objective": [slo.objective] * len(values)},
            f"{slo.title} ({slo.unit})",
            (0.5 + 4.6 * index, 1.4, 4.5, 4.8),
        )
    notes.lines.append(
        f"objectives <- catalog/slos.yaml ({', '.join(('SLO-LATENCY-P95', 'SLO-ERROR-RATE'))})"
    )
    return notes


def _chaos_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    chaos = data.run.summaries.get("chaos")
    checks = sorted(chaos.checks if chaos else [], key=lambda c: c.verdict not in FAILING)
    rows = [[c.title or c.id, str(c.verdict), c.message or ""] for c in checks]  # failed first
    scores = [
        notes.add(f"resilience score {r.run_id}", metric(r, "chaos", "resilience_score"))
        for r in data.runs
    ]
    current = scores[-1] if scores else None
    slide = new_slide(
        deck,
        "Chaos outcomes and resilience score",
        notes,
        f"Resilience score this run: {current if current is not None else 'n/a'}",
    )
    notes.lines.append(f"experiments <- {data.run.run_id}/chaos/summary.json#/checks")
    shown = rows or [["No chaos results"]]
    table_bottom, box = table_and_chart_box(len(shown))
    header = ["Experiment", "Outcome", "Note"]
    table(slide, header, shown, TOP, table_bottom, widths=[3.2, 1.0, 4.8])
    chart(
        slide,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
        _labels(data),
        {"resilience score": scores},
        "Resilience score per run",
        box,
    )
    return notes


def _money_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    rows = []
    for row in money_rows(data.run):
        for name in ("charges", "captures", "refunds"):
            figure = getattr(row, name)
            if figure is not None:
                notes.add(f"{row.suite} {name}", Figure(figure, f"{row.source}/{name}"))
        notes.add(f"{row.suite} mismatches", Figure(row.mismatches, f"{row.source}/mismatches"))
        named = "; ".join(row.named)
        rows.append(
            [
                row.suite,
                row.verdict,
                f"{row.charges} / {row.captures} / {row.refunds}",
                row.captured,
                row.refunded,
                f"{row.mismatches}{f': {named}' if named else ''}",
            ]
        )
    slide = new_slide(
        deck,
        "Money reconciliation: gateways' ledgers vs orders",
        notes,
        "Every capture belongs to one confirmed order of its amount, or was refunded.",
    )
    header = ["Suite", "Ledgers", "Charges/captures/refunds", "Captured", "Refunded"]
    table(
        slide,
        [*header, "Mismatches"],
        rows or [["No suite reconciled the gateways' ledgers"]],
        widths=[1.1, 0.9, 2.1, 1.2, 1.2, 2.5],
    )
    return notes


def _health_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    series: dict[str, list[float | None]] = {}
    for suite in ("acceptance", "contract"):
        series[f"{suite} pass rate (%)"] = [
            notes.add(f"{suite} pass rate {r.run_id}", pass_rate(r, suite)) for r in data.runs
        ]
    slide = new_slide(deck, "Contract and acceptance health", notes)
    chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, _labels(data), series, "Pass rate per run (%)")
    return notes


def _security_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    series = {
        sev: [
            notes.add(f"{sev} {r.run_id}", metric(r, "security", "findings", sev))
            for r in data.runs
        ]
        for sev in SEVERITIES
    }
    security = data.run.summaries.get("security")
    passed = sum(c.verdict not in FAILING for c in security.checks) if security else 0
    total = len(security.checks) if security else 0
    notes.lines.append(
        f"security checks {passed}/{total} <- {data.run.run_id}/security/summary.json#/checks"
    )
    slide = new_slide(
        deck, "Security posture", notes, f"Security checks passing this run: {passed} of {total}"
    )
    chart(slide, XL_CHART_TYPE.COLUMN_STACKED, _labels(data), series, "Open findings by severity")
    return notes


def _risk_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    risks = top_risks(data)
    notes.lines.append("risks, owners, impact x likelihood <- catalog/risks.yaml")
    rows = [
        [rid, title, owner, str(score), "yes" if hit else ""]
        for rid, title, owner, score, hit in risks
    ]
    slide = new_slide(
        deck, "Top risks and owners", notes, "Score = impact x likelihood (1-3 each)."
    )
    header = ["Risk", "Title", "Owner", "Score", "Hit this run"]
    table(slide, header, rows, widths=[1.0, 3.6, 1.5, 0.8, 2.1])
    return notes


def _dora_slide(deck: Deck, data: ReportData) -> Sources:
    notes = Sources()
    names = {
        "releases_per_week": "Releases per week (distinct target versions)",
        "change_failure_rate_pct": "Change failure rate (%)",
        "mttr_hours": "Mean time to restore (hours, failing run to next passing run)",
    }
    rows = []
    for key, figure in dora(data).items():
        rows.append([names[key], f"{notes.add(key, figure):g}"])
    rows.append(["Lead time for changes", "n/a: runs carry no commit times"])
    slide = new_slide(
        deck, "Delivery figures (DORA-style, from run history)", notes, f"{len(data.runs)} runs."
    )
    table(slide, ["Measure", "Value"], rows, widths=[6.0, 3.0])
    return notes


def _next_steps(deck: Deck, data: ReportData, trace: Traceability) -> Sources:
    notes = Sources()
    steps = [
        f"Fix {suite} {check}: {msg or 'failing'}"
        for suite, check, msg, _ in failing_checks(data.run)
    ]
    counts = totals(trace)
    for status in ("failing", "stale", "no-test"):
        notes.add(f"requirements {status}", Figure(counts[status], "reports/coverage.csv"))
    stale = trace.coverage[trace.coverage["status"] == "stale"]["requirement_id"].tolist()
    untested = trace.coverage[trace.coverage["status"] == "no-test"]["requirement_id"].tolist()
    if stale:
        steps.append(f"Refresh stale evidence: {', '.join(stale)}")
    if untested:
        steps.append(f"Add tests for: {', '.join(untested)}")
    slide = new_slide(deck, "Next steps", notes)
    bullets(slide, steps[:10] or ["No failing, stale or untested items."], 16)
    return notes


def build_deck(data: ReportData, trace: Traceability) -> bytes:
    """The QBR deck for a run and its history, as .pptx bytes."""
    deck = Presentation()
    record = data.run.record
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = "Quarterly business review: reliability and compliance"
    title.placeholders[1].text = (
        f"{record.target.url or 'target'} version {record.target.version or 'unknown'}\n"
        f"Run {data.run.run_id} ({record.finished_at:%Y-%m-%d}), {runs_of_history(len(data.runs))}"
    )
    title.notes_slide.notes_text_frame.text = f"Sources: {data.run.run_id}/run.json"
    slides = [headline_slide(deck, data, trace), decision_slide(deck, data)]
    slides += [
        builder(deck, data)
        for builder in (
            _slo_slide,
            _trend_slide,
            _chaos_slide,
            _money_slide,
            _health_slide,
            _security_slide,
            _risk_slide,
            _dora_slide,
        )
    ]
    slides.append(_next_steps(deck, data, trace))
    for notes in slides:
        notes.write()
    props = deck.core_properties
    props.title, props.author, props.revision = "Assay QBR", "Assay", 1
    props.created = props.modified = record.finished_at.replace(tzinfo=None)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
