"""The status page's headline never says PASS beside a failing check, a skip or a waiver: it
renders assay.overall, the one verdict the screen and run.json say too."""

from __future__ import annotations

import re
from datetime import date

from assay.summary import Check, Verdict, WaiverUse
from reports import html, traceability
from reports.figures import ReportData

WAIVER = WaiverUse(
    check="security/pip-audit",
    condition="vulnerability-database-unreachable",
    reason="no vulnerability database is reachable from this network",
    owner="security",
    approver="ciso",
    ticket="SEC-42",
    expires=date(2027, 6, 30),
)


def _headline(data: ReportData) -> str:
    text = html.render(data, traceability.build(data)).decode()
    found = re.search(r'Overall: <span class="badge badge-(\w+)">([^<]+)</span>', text)
    assert found is not None
    return f"{found[1]}: {found[2]}"


def _security(data: ReportData, verdict: Verdict, **update: object) -> None:
    summary = data.run.summaries["security"]
    checks = [
        c.model_copy(update={"verdict": verdict}) if c.id == "security/pip-audit" else c
        for c in summary.checks
    ]
    data.run.summaries["security"] = summary.model_copy(update={"checks": checks, **update})


def test_a_clean_run_passes(data_c: ReportData) -> None:
    assert _headline(data_c) == "pass: PASS"


def test_a_failing_check_makes_the_headline_fail_whatever_the_suite_said(
    data_c: ReportData,
) -> None:
    _security(data_c, Verdict.FAIL)  # the suite's own verdict is still "pass"
    assert data_c.run.summaries["security"].verdict is Verdict.PASS
    assert _headline(data_c) == "fail: FAIL (1 FAILING CHECK)"


def test_a_check_that_could_not_judge_is_said_so_and_is_not_a_pass(data_c: ReportData) -> None:
    _security(data_c, Verdict.ERROR)
    assert _headline(data_c) == "warn: COULD NOT JUDGE (A SUITE OR CHECK HIT AN ERROR)"


def test_an_unjudged_check_is_an_exception_named_in_the_headline(data_c: ReportData) -> None:
    _security(data_c, Verdict.UNJUDGED)  # no waiver covers it
    assert _headline(data_c) == "warn: PASS WITH 1 UNJUDGED CHECK"


def test_a_waiver_is_named_in_the_headline(data_c: ReportData) -> None:
    _security(data_c, Verdict.SKIPPED, waivers=[WAIVER])
    assert _headline(data_c) == "warn: PASS WITH 1 WAIVER"


def test_a_suite_that_judged_nothing_is_not_a_pass(data_c: ReportData) -> None:
    summary = data_c.run.summaries["contract"]
    skipped = [Check(id=c.id, verdict=Verdict.SKIPPED) for c in summary.checks]
    data_c.run.summaries["contract"] = summary.model_copy(
        update={"checks": skipped, "verdict": Verdict.SKIPPED}
    )
    assert _headline(data_c) == "warn: PARTIAL (4 OF 5 SUITES JUDGED)"
    for name, summary in data_c.run.summaries.items():
        data_c.run.summaries[name] = summary.model_copy(update={"verdict": Verdict.SKIPPED})
    assert _headline(data_c) == "warn: COULD NOT JUDGE (NO SUITE JUDGED ANYTHING)"
