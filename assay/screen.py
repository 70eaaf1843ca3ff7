"""What `assay` prints: the run's summary screen, the SLO table, artefacts, catalog checks.

Kept apart from the commands (assay/cli.py) that decide what runs and how it exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from assay.catalog.check import CheckReport
from assay.overall import Outcome, Overall
from assay.record import TIMINGS_JSON, LateTimings, RunTimings
from assay.run import RUN_JSON, Run
from assay.summary import Summary, Verdict
from assay.target import Target

FAILING = {Verdict.FAIL, Verdict.ERROR}
VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.WARNING: "bold yellow",
    Verdict.FAIL: "bold red",
    Verdict.ERROR: "bold magenta",
    Verdict.SKIPPED: "dim",
    Verdict.UNJUDGED: "dim",
}

console = Console()


def verdict_text(verdict: Verdict) -> str:
    return f"[{VERDICT_STYLE[verdict]}]{verdict.upper()}[/]"


def _headline(message: str | None) -> str:
    """The line of a check's message that says what went wrong (a Gherkin ✘ step and its reason)."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("✘"):
            return " ".join(lines[index : index + 2])
    return lines[0] if lines else ""


def print_slos(summaries: list[Summary]) -> None:
    rows = [(summary.suite, slo) for summary in summaries for slo in summary.slos]
    if rows:
        table = Table("SLO", "scope", "objective", "observed", "verdict", title="SLOs")
        for suite, slo in rows[:12]:
            observed = "n/a" if slo.observed is None else f"{slo.observed:g} {slo.unit}"
            table.add_row(
                slo.id,
                slo.scope or suite,
                f"{slo.objective:g} {slo.unit}",
                observed,
                verdict_text(slo.verdict),
            )
        console.print(table)
    for summary in summaries:
        score = summary.metrics.get("resilience_score")
        if isinstance(score, int | float):
            console.print(f"resilience score ({summary.suite}): {score:.1f} / 100", highlight=False)


OUTCOME_STYLE = {
    Outcome.PASS: "bold green",
    Outcome.PASS_WITH_EXCEPTIONS: "bold yellow",
    Outcome.PARTIAL: "bold yellow",
    Outcome.NOT_JUDGED: "bold yellow",
    Outcome.FAIL: "bold red",
}


def print_run_summary(
    run: Run, target: Target | None, summaries: list[Summary], verdict: Overall
) -> None:
    table = Table(title=f"Run {run.run_id}", title_justify="left")
    columns = ("suite", "verdict", "passed", "failed", "skipped", "errors", "judged", "duration")
    for column in columns:
        table.add_column(column, justify="left" if column in {"suite", "verdict"} else "right")
    for summary in summaries:
        counts = summary.counts
        table.add_row(
            summary.suite,
            verdict_text(summary.verdict),
            str(counts.passed),
            str(counts.failed),
            str(counts.skipped),
            str(counts.errors),
            "n/a" if summary.judged_share is None else f"{100 * summary.judged_share:.0f} %",
            f"{summary.duration_s:.1f} s",
        )
    console.print(table)
    print_slos(summaries)
    failing = [
        (summary.suite, check)
        for summary in summaries
        for check in summary.checks
        if check.verdict in FAILING
    ]
    for suite, check in failing[:8]:
        console.print(f"  [red]✘[/] {suite} {check.id}", highlight=False, soft_wrap=True)
        reason = _headline(check.message)
        if reason:
            console.print(f"      {reason[:240]}", highlight=False, soft_wrap=True)
    if len(failing) > 8:
        console.print(f"  … and {len(failing) - 8} more failing checks")
    for summary in summaries:
        for note in summary.notes[:3]:
            console.print(f"  [dim]{summary.suite}: {note}[/]", highlight=False)
    if target is not None:
        version = target.version or "unknown version"
        console.print(f"target: {target.base_url} ({target.kind}, {version})")
    console.print(f"run directory: {run.directory}")
    style = OUTCOME_STYLE[verdict.outcome]
    console.print(f"overall: [{style}]{verdict.label}[/] (run.json `overall`)", highlight=False)


@dataclass(frozen=True)
class Built:
    """What one generator made of the run (or why it could not)."""

    name: str
    paths: list[Path]
    duration_s: float
    error: str | None = None


def print_artefacts(run: Run, built: list[Built]) -> None:
    for item in built:
        if item.error:
            console.print(f"  [red]✘[/] {item.name}: {item.error}", highlight=False)
            continue
        where = ", ".join(
            str(path.relative_to(run.directory) if path.is_relative_to(run.directory) else path)
            for path in item.paths[:3]
        )
        more = f" (+{len(item.paths) - 3} more)" if len(item.paths) > 3 else ""
        console.print(
            f"  [green]✔[/] {item.name} ({item.duration_s:.1f} s): {where}{more}", highlight=False
        )


def _phase(name: str, seconds: float, parts: dict[str, float] | None = None) -> str:
    detail = " · ".join(f"{part} {value:.1f}" for part, value in (parts or {}).items())
    return f"  {name:<11}{seconds:>8.1f} s" + (f"  {detail}" if detail else "")


def timing_lines(sealed: RunTimings, late: LateTimings) -> list[str]:
    """The block `assay run` ends with: each phase's wall time, the total and where they are."""
    lines = ["timings"]
    if sealed.setup_s is not None:
        lines.append(_phase("setup", sealed.setup_s) + "  (dev.py's install)")
    if sealed.target_s is not None:
        lines.append(_phase("target", sealed.target_s) + "  (start and stop)")
    summed = sum(sealed.suites.values())
    suites_s = summed if sealed.suites_s is None else sealed.suites_s
    line = _phase("suites", suites_s, sealed.suites)
    if sealed.suites_s is not None:
        line += f"  ({summed:.1f} s of suite time: some ran side by side)"
    lines.append(line)
    lines.append(_phase("generators", sum(late.generators.values()), late.generators))
    total = late.total_s or 0.0
    phases = (sealed.target_s or 0.0) + suites_s + sum(late.generators.values())
    if total - phases >= 0.05:  # so the lines add up to the total
        lines.append(_phase("other", total - phases) + "  (loading code, recording the run)")
    with_setup = f", {total + sealed.setup_s:.1f} s with setup" if sealed.setup_s else ""
    lines.append(_phase("total", total) + with_setup)
    lines.append(
        f"  recorded in {RUN_JSON} (setup, target, suites) and {TIMINGS_JSON} (generators,"
        " total: measured after the evidence pack sealed run.json)"
    )
    return lines


def print_timings(sealed: RunTimings, late: LateTimings) -> None:
    # Never wrapped: a log reader (and CI's grep) sees one line per phase at any width.
    for line in timing_lines(sealed, late):
        console.print(line, highlight=False, soft_wrap=True)


def print_check(report: CheckReport) -> None:
    kinds = report.kinds()
    table = Table("kind of test", "links", title="Requirement links found", title_justify="left")
    for kind, count in sorted(kinds.items()):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(
        f"requirements: {report.requirement_count} · covered {len(report.covered)}"
        f" · pending {len(report.pending)} · waived {len(report.waived)}",
        highlight=False,
    )
    for ident, expected in sorted(report.pending.items()):
        console.print(f"  [dim]pending {ident}: no {'/'.join(expected)} tests exist yet[/]")
    for ident, reason in sorted(report.waived.items()):
        console.print(f"  [dim]waived  {ident}: {reason}[/]", highlight=False)
    for warning in report.warnings:
        console.print(f"  [yellow]warning[/] {warning}", highlight=False)
    for error in report.errors:
        console.print(f"  [red]error[/]   {error}", highlight=False)
    verdict = Verdict.PASS if report.ok else Verdict.FAIL
    console.print(f"catalog check: {verdict_text(verdict)} ({len(report.errors)} errors)")
