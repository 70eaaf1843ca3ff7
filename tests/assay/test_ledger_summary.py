"""How a suite records the money reconciliation: `metrics.ledger` and `ledger::gateways-agree`."""

from __future__ import annotations

from datetime import UTC, datetime

from assay.ledger import GatewayLedger, LedgerCharge, reconcile
from assay.ledger.summary import CHECK_ID, ledger_check, record_ledger, with_ledger
from assay.summary import Check, Counts, Summary, Verdict
from assay.target import Target, TargetKind

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def _summary(verdict: Verdict = Verdict.PASS) -> Summary:
    return Summary(
        suite="acceptance",
        verdict=verdict,
        started_at=NOW,
        finished_at=NOW,
        duration_s=1.0,
        counts=Counts(passed=1),
        checks=[Check(id="a.feature::one", verdict=Verdict.PASS)],
    )


def _stray_capture() -> GatewayLedger:
    stray = LedgerCharge(
        key="stray", id="ch_1", amount=500, currency="USD", status="succeeded", at=NOW
    )
    return GatewayLedger(gateway="primary", charges=[stray])


def test_a_held_reconciliation_is_a_passing_check_with_its_figures() -> None:
    report = reconcile({"primary": GatewayLedger(gateway="primary")}, [], now=NOW, window_s=30)
    summary = with_ledger(_summary(), ledger_check(report), report)
    check = summary.checks[-1]
    assert check.id == CHECK_ID
    assert check.verdict is Verdict.PASS
    assert "REQ-PAY-003" in check.requirements
    assert check.controls, "linked to the requirement's controls in the catalog"
    assert summary.verdict is Verdict.PASS
    assert (summary.counts.passed, summary.counts.judged) == (2, 2)
    assert summary.metrics["ledger"]["held"] is True
    assert summary.metrics["ledger"]["mismatches"] == []


def test_a_mismatch_fails_the_check_and_the_suite() -> None:
    ledgers = {"primary": _stray_capture()}
    report = reconcile(ledgers, [], now=NOW.replace(hour=7), window_s=30)
    summary = with_ledger(_summary(), ledger_check(report), report)
    assert summary.checks[-1].verdict is Verdict.FAIL
    assert "capture-without-order" in (summary.checks[-1].message or "")
    assert summary.verdict is Verdict.FAIL
    assert summary.counts.failed == 1
    assert summary.metrics["ledger"]["mismatches"][0]["key"] == "stray"


def test_unreadable_ledgers_are_an_error_not_a_pass() -> None:
    check = ledger_check(None, error="ledger of primary: answered 404")
    summary = with_ledger(_summary(), check, None)
    assert summary.checks[-1].verdict is Verdict.ERROR
    assert summary.metrics["ledger"] == {"error": "ledger of primary: answered 404"}
    assert summary.verdict is Verdict.FAIL


def test_a_target_without_ledgers_gets_a_note_and_no_check() -> None:
    target = Target(base_url="http://127.0.0.1:1", kind=TargetKind.REMOTE)
    summary = record_ledger(_summary(), target)
    assert [c.id for c in summary.checks] == ["a.feature::one"]
    assert "ledger" not in summary.metrics
    assert any("no gateway ledgers" in note for note in summary.notes)
