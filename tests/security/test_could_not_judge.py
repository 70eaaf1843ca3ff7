"""A scanner crash fails the gate; the one allowed "could not judge" is a named catalog waiver."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assay.catalog import CouldNotJudge, load_catalog
from assay.summary import Summary, Verdict
from infra.security import gate
from infra.security.scanners import DB_UNREACHABLE, ScanResult, parse_pip_audit

pytestmark = pytest.mark.req("REQ-SUP-001")

STARTED = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
WAIVER = CouldNotJudge(
    tool="pip-audit",
    condition=DB_UNREACHABLE,
    reason="no vulnerability database is reachable from air-gapped runners",
    owner="security",
    approver="platform",
    ticket="ISSUE-15",
    expires=dt.date(2027, 5, 31),
)


def _unreachable() -> ScanResult:
    report = {
        "dependencies": [
            {"name": "fastapi", "version": "0.115.0", "skip_reason": "Connection refused"},
            {"name": "jinja2", "version": "3.1.6", "skip_reason": "Connection refused"},
        ]
    }
    return parse_pip_audit(report)


def _results(pip_audit: ScanResult) -> list[ScanResult]:
    others = [ScanResult(tool) for tool in ("bandit", "secrets", "sbom", "checkov")]
    return [pip_audit, *others]


def test_a_scanner_crash_fails_the_run(tmp_path: Path) -> None:
    crashed = ScanResult("sbom", error="cyclonedx-py exit 1: Traceback ...")
    results = [ScanResult("bandit"), ScanResult("pip-audit"), ScanResult("secrets"), crashed]
    summary = gate.summarize(results, tmp_path, STARTED, (WAIVER,))
    assert summary["verdict"] == "error"
    assert summary["waivers"] == []
    assert gate.exit_code(summary) == 1  # was 0 unless --strict


def test_an_unreachable_vulnerability_database_is_the_named_condition() -> None:
    result = _unreachable()
    assert result.condition == DB_UNREACHABLE
    assert "no vulnerability data for 2 of 2 dependencies" in result.error


def test_the_named_condition_is_waived_from_the_catalog_and_recorded(tmp_path: Path) -> None:
    summary = gate.summarize(_results(_unreachable()), tmp_path, STARTED, (WAIVER,))
    assert summary["verdict"] == "pass"
    assert gate.exit_code(summary) == 0
    (check,) = [c for c in summary["checks"] if c["id"] == "security/pip-audit"]
    assert check["verdict"] == "skipped"
    assert summary["waivers"] == [
        {
            "check": "security/pip-audit",
            "condition": DB_UNREACHABLE,
            "reason": WAIVER.reason,
            "owner": "security",
            "approver": "platform",
            "ticket": "ISSUE-15",
            "expires": "2027-05-31",
        }
    ]
    parsed = Summary.model_validate(summary)
    assert parsed.verdict is Verdict.PASS
    assert parsed.judged_share == 1.0  # the waived check is not held against the share


def test_an_expired_waiver_or_a_strict_run_waives_nothing(tmp_path: Path) -> None:
    expired = WAIVER.model_copy(update={"expires": dt.date(2026, 11, 1)})
    summary = gate.summarize(_results(_unreachable()), tmp_path, STARTED, (expired,))
    assert summary["verdict"] == "error"
    strict = gate.summarize(_results(_unreachable()), tmp_path, STARTED, ())
    assert strict["verdict"] == "error"
    assert gate.exit_code(strict) == 1


def test_the_catalog_names_owner_approver_ticket_and_expiry_of_its_one_waiver() -> None:
    (waiver,) = load_catalog().could_not_judge
    assert (waiver.tool, waiver.condition) == ("pip-audit", DB_UNREACHABLE)
    assert waiver.owner
    assert waiver.approver
    assert waiver.owner != waiver.approver
    assert waiver.ticket
    assert waiver.expires is not None
    assert waiver.expires > dt.date.today()
