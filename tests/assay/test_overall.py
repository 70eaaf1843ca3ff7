"""One overall verdict: only the two passes are green, and every exception is counted."""

from __future__ import annotations

import pytest

from assay.overall import Outcome, overall
from assay.summary import Check, Summary, Verdict, utcnow


def suite(name: str, verdict: Verdict, *checks: Verdict) -> Summary:
    now = utcnow()
    return Summary(
        suite=name,
        verdict=verdict,
        started_at=now,
        finished_at=now,
        duration_s=0,
        checks=[Check(id=f"{name}-{i}", verdict=v) for i, v in enumerate(checks)],
    )


@pytest.mark.parametrize(
    ("summaries", "recorded", "outcome", "label"),
    [
        ([suite("a", Verdict.PASS, Verdict.PASS)], {}, Outcome.PASS, "pass"),
        (
            [suite("a", Verdict.WARNING, Verdict.WARNING, Verdict.PASS)],
            {},
            Outcome.PASS_WITH_EXCEPTIONS,
            "pass with 2 warnings",
        ),
        # A suite only run.json remembers (its summary is gone) still counts.
        ([suite("a", Verdict.PASS)], {"b": Verdict.FAIL}, Outcome.FAIL, "fail"),
        ([], {}, Outcome.NOT_JUDGED, "could not judge (no suite judged anything)"),
    ],
)
def test_the_overall_verdict(
    summaries: list[Summary], recorded: dict[str, Verdict], outcome: Outcome, label: str
) -> None:
    verdict = overall(summaries, recorded)
    assert (verdict.outcome, verdict.label) == (outcome, label)
    assert verdict.green is (outcome in {Outcome.PASS, Outcome.PASS_WITH_EXCEPTIONS})
