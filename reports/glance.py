"""The deck's first two slides: the quarter at a glance, and what needs a decision."""

from __future__ import annotations

from pptx.presentation import Presentation as Deck

from assay.summary import Verdict
from reports.changes import previous
from reports.figures import (
    Figure,
    ReportData,
    failing_checks,
    headline,
    metric,
    slo_groups,
    top_risks,
)
from reports.slides import Sources, bullets, new_slide, tiles
from reports.traceability import Traceability, totals

NOT_JUDGED = {Verdict.SKIPPED, Verdict.UNJUDGED}
HIGH_RISK = 6  # impact x likelihood (1-3 each): high impact and at least medium likelihood


def _direction(now: float | None, before: float | None, higher_is_better: bool) -> str:
    if now is None:
        return "not measured"
    if before is None:
        return "no earlier run"
    if now == before:
        return "unchanged"
    better = (now > before) == higher_is_better
    return f"{'▲' if now > before else '▼'} {'better' if better else 'worse'} (was {before:g})"


def _slos_met(data: ReportData) -> tuple[Figure, str]:
    judged = [r for r in slo_groups(data) if r.verdict not in NOT_JUDGED]
    met = sum(r.verdict is Verdict.PASS for r in judged)
    share = round(100 * met / len(judged), 1) if judged else None
    source = f"{data.run.run_id}/run.json#/suites"
    return Figure(share, source), f"{met} of {len(judged)} met" if judged else "none judged"


def _budget_left(data: ReportData) -> tuple[Figure, str]:
    """What is left of the error budget of the SLO that spent most, and which SLO that is."""
    spent = [
        r for r in slo_groups(data) if r.verdict not in NOT_JUDGED and r.budget_used_pct is not None
    ]
    if not spent:
        return Figure(None, f"{data.run.run_id}/run.json#/suites"), "no budget measured"
    worst = max(spent, key=lambda r: r.budget_used_pct or 0.0)
    left = max(0.0, round(100 - (worst.budget_used_pct or 0.0), 1))
    # Derived from the SLO's entry (objective and observed), which the notes point at.
    entry = worst.observed.source.removesuffix("/observed")
    return Figure(left, entry), worst.slo_id


def _high_risks(data: ReportData) -> int:
    ranked = top_risks(data, limit=len(data.catalog.risks))
    return sum(touched and score >= HIGH_RISK for _, _, _, score, touched in ranked)


def headline_slide(deck: Deck, data: ReportData, trace: Traceability) -> Sources:
    """The quarter in five figures, each beside the run before it."""
    notes = Sources()
    before = previous(data)
    items: list[tuple[str, str, str]] = []

    def item(label: str, now: Figure, value: str, detail: str, was: float | None, up: bool) -> None:
        notes.add(label, now)
        trend = _direction(now.value, was, up)
        items.append((label, value, f"{detail} · {trend}" if detail else trend))

    met, met_text = _slos_met(data)
    share = "n/a" if met.value is None else f"{met.value:.0f} %"
    item("SLOs met", met, share, met_text, _slos_met(before)[0].value if before else None, True)
    left, worst = _budget_left(data)
    was_left = _budget_left(before)[0].value if before else None
    value = "n/a" if left.value is None else f"{left.value:.0f} %"
    item("Error budget left, worst SLO", left, value, worst, was_left, True)
    score = metric(data.run, "chaos", "resilience_score")
    was_score = metric(before.run, "chaos", "resilience_score") if before else None
    scored = score or Figure(None, f"{data.run.run_id}/run.json#/suites")
    item(
        "Resilience score (chaos)",
        scored,
        "not run" if score is None else f"{score.value:g}",
        "out of 100",
        None if was_score is None else was_score.value,
        True,
    )
    risks = _high_risks(data)
    item(
        "High risks a failing check touches",
        Figure(risks, f"{data.run.run_id}/run.json#/suites"),
        str(risks),
        "",
        _high_risks(before) if before else None,
        False,
    )
    counts = totals(trace)
    notes.add("requirements evidenced", Figure(counts["covered"], "reports/coverage.csv"))
    items.append(
        (
            "Requirements evidenced by this run",
            f"{counts['covered']}/{counts['requirements']}",
            f"{counts['stale']} stale, {counts['no-test']} without a test",
        )
    )
    overall = headline(data.run)["overall"]
    slide = new_slide(
        deck,
        "The quarter at a glance",
        notes,
        f"Overall: {overall} (run {data.run.run_id}; the status page says the same).",
    )
    tiles(slide, items)
    return notes


def decision_slide(deck: Deck, data: ReportData) -> Sources:
    """What an executive must decide: failures to fix, waivers to renew, risks in play."""
    notes = Sources()
    failing = failing_checks(data.run)
    items = [
        f"Fix or accept: {check if check.startswith(suite) else f'{suite} {check}'}: "
        f"{m or 'failing'}"
        for suite, check, m, _ in failing
    ]
    if len(items) > 5:
        items = [*items[:5], f"… {len(failing) - 5} more failing checks (status page)"]
    for suite, summary in sorted(data.run.summaries.items()):
        items += [
            f"Renew or end the waiver on {suite} {w.check} ({w.condition}): owner {w.owner}, "
            f"approved by {w.approver}, expires {w.expires:%Y-%m-%d}, {w.ticket}"
            for w in summary.waivers
        ]
    items += [
        f"Risk {ident} ({owner}, score {score}): {title}"
        for ident, title, owner, score, touched in top_risks(data, limit=len(data.catalog.risks))
        if touched and score >= HIGH_RISK
    ]
    notes.add("failing checks", Figure(len(failing), f"{data.run.run_id}/run.json#/suites"))
    slide = new_slide(deck, "What needs a decision", notes)
    shown = items or ["Nothing: every check passed, with no waiver and no high risk in play."]
    bullets(slide, shown[:9], 14)
    return notes
