"""A run's one verdict, in one vocabulary: the screen, run.json, the reports and the evidence
pack all render this, none derives its own.

- fail: a suite or any check failed (whatever its suite concluded);
- could not judge: a suite or a check could not judge (an error), or no suite judged anything;
- partial: some suites judged nothing (skipped) while the others passed;
- pass with exceptions: passed, with waivers, warnings or checks left unjudged, each counted;
- pass: every suite judged and passed, with no exception.

Only the two passes are green: skipped, warning-free but partial, and unjudged never are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from assay.record import Run
from assay.summary import Summary, Verdict


class Outcome(StrEnum):
    """The kinds of overall verdict, worst first."""

    FAIL = "fail"
    NOT_JUDGED = "could not judge"
    PARTIAL = "partial"
    PASS_WITH_EXCEPTIONS = "pass with exceptions"  # noqa: S105 - a verdict, not a password
    PASS = "pass"  # noqa: S105 - a verdict, not a password


GREEN = {Outcome.PASS, Outcome.PASS_WITH_EXCEPTIONS}


@dataclass(frozen=True)
class Overall:
    """The outcome and how it reads ("pass with 1 waiver and 2 warnings")."""

    outcome: Outcome
    label: str

    @property
    def green(self) -> bool:
        """Whether the run passed (with or without named exceptions)."""
        return self.outcome in GREEN

    def to_json(self) -> dict[str, str]:
        """As run.json records it."""
        return {"outcome": str(self.outcome), "label": self.label}


def _counted(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def overall(summaries: Iterable[Summary], recorded: Mapping[str, Verdict] | None = None) -> Overall:
    """The run's verdict from its suites' summaries (and the verdicts run.json records for
    suites whose summary is gone)."""
    summaries = list(summaries)
    verdicts = [s.verdict for s in summaries] + list((recorded or {}).values())
    checks = [c.verdict for s in summaries for c in s.checks]
    if Verdict.FAIL in verdicts or Verdict.FAIL in checks:
        failed = sum(v is Verdict.FAIL for v in checks)
        label = f"fail ({_counted(failed, 'failing check')})" if failed else "fail"
        return Overall(Outcome.FAIL, label)
    if Verdict.ERROR in verdicts or Verdict.ERROR in checks:
        return Overall(Outcome.NOT_JUDGED, "could not judge (a suite or check hit an error)")
    skipped = [s.suite for s in summaries if s.verdict is Verdict.SKIPPED]
    if not summaries or len(skipped) == len(summaries):
        return Overall(Outcome.NOT_JUDGED, "could not judge (no suite judged anything)")
    if skipped:
        judged = len(summaries) - len(skipped)
        return Overall(Outcome.PARTIAL, f"partial ({judged} of {len(summaries)} suites judged)")
    waived = {(s.suite, w.check) for s in summaries for w in s.waivers}
    waivers = len(waived)
    warnings = sum(v is Verdict.WARNING for v in verdicts) + sum(
        v is Verdict.WARNING for v in checks
    )
    unjudged = sum(
        c.verdict in {Verdict.SKIPPED, Verdict.UNJUDGED} and (s.suite, c.id) not in waived
        for s in summaries
        for c in s.checks
    )
    exceptions = [
        _counted(n, what)
        for n, what in ((waivers, "waiver"), (warnings, "warning"), (unjudged, "unjudged check"))
        if n
    ]
    if exceptions:
        return Overall(Outcome.PASS_WITH_EXCEPTIONS, "pass with " + " and ".join(exceptions))
    return Overall(Outcome.PASS, "pass")


def of_run(run: Run) -> Overall:
    """A run directory's verdict: every suite it holds, however many invocations added them."""
    recorded = {n: v for n, v in run.record.suites.items() if n not in run.summaries}
    return overall(run.summaries.values(), recorded)
