"""The security gate's judgement: verdicts, accepted exceptions, the summary shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from assay.summary import Summary
from infra.security import exceptions, gate, scanners
from infra.security.scanners import Finding, ScanResult, parse_pip_audit, runtime_closure

pytestmark = pytest.mark.req("REQ-SUP-001")

TODAY = dt.date(2026, 11, 26)


def _high(tool: str = "bandit", rule: str = "B602", path: str = "app.py") -> Finding:
    return Finding(tool=tool, rule=rule, severity="high", path=path)


def test_a_high_finding_fails_and_lower_ones_do_not() -> None:
    assert gate.verdict(ScanResult("bandit", findings=[_high()])) == "fail"
    low = Finding(tool="bandit", rule="B101", severity="low", path="tests/x.py")
    assert gate.verdict(ScanResult("bandit", findings=[low])) == "pass"


def test_a_scanner_that_could_not_judge_is_an_error_not_a_pass() -> None:
    assert gate.verdict(ScanResult("pip-audit", error="no database")) == "error"
    assert gate.verdict(ScanResult("pip-audit", findings=[_high("pip-audit")], error="x")) == "fail"


def test_an_accepted_finding_stops_blocking_until_it_expires(tmp_path: Path) -> None:
    catalog = tmp_path / "exceptions.yaml"
    entry = {
        "tool": "bandit",
        "rule": "B602",
        "path": "tools/*.py",
        "reason": "the command is a constant list built in this module",
        "expires": dt.date(2026, 12, 31),
    }
    catalog.write_text(yaml.safe_dump({"exceptions": [entry]}))
    accepted = exceptions.load(catalog)
    inside, outside = _high(path="tools/run.py"), _high(path="app.py")
    exceptions.apply([inside, outside], accepted, TODAY)
    assert inside.accepted.startswith("the command")
    assert not outside.accepted
    later = _high(path="tools/run.py")
    exceptions.apply([later], accepted, dt.date(2027, 1, 1))
    assert gate.verdict(ScanResult("bandit", findings=[later])) == "fail"


def test_an_exception_without_a_reason_is_rejected(tmp_path: Path) -> None:
    catalog = tmp_path / "exceptions.yaml"
    catalog.write_text(yaml.safe_dump({"exceptions": [{"tool": "bandit", "rule": "B602"}]}))
    with pytest.raises(exceptions.CatalogError):
        exceptions.load(catalog)


def test_the_committed_catalog_is_valid_and_current() -> None:
    for entry in exceptions.load():
        assert entry.expires is not None, entry
        assert entry.expires > dt.date.today(), f"expired exception: {entry}"


def test_pip_audit_without_vulnerability_data_is_an_error() -> None:
    report = {
        "dependencies": [
            {
                "name": "fastapi",
                "version": "0.115.0",
                "skip_reason": "Dependency not found on PyPI",
            },
            {"name": "jinja2", "version": "3.1.6", "vulns": []},
        ]
    }
    result = parse_pip_audit(report)
    assert gate.verdict(result) == "error"
    assert "1 of 2" in result.error


def test_pip_audit_vulnerabilities_block() -> None:
    vuln = {"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["2.0.1"]}
    result = parse_pip_audit({"dependencies": [{"name": "a", "version": "2.0.0", "vulns": [vuln]}]})
    assert gate.verdict(result) == "fail"
    assert result.findings[0].path == "a==2.0.0"


def test_the_lock_is_the_installed_runtime_closure() -> None:
    closure = runtime_closure()
    assert {"fastapi", "sqlalchemy", "starlette", "pydantic-core"} <= set(closure)
    assert "assay" not in closure  # the project itself is not on PyPI
    assert "checkov" not in closure  # scanners are not runtime dependencies
    assert "ruff" not in closure  # nor is the dev extra


def test_the_summary_has_the_shape_every_suite_writes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    report = run / "security" / "bandit.json"
    lock = run / "security" / "requirements.lock.txt"
    results = [
        ScanResult("bandit", reports=[report], finished_at="2026-11-26T06:00:09+00:00"),
        ScanResult("pip-audit", reports=[lock], error="unreachable"),
        ScanResult("secrets", findings=[_high("secrets", "Secret Keyword")]),
        ScanResult("sbom"),
        ScanResult("checkov"),
    ]
    summary = gate.summarize(results, run, dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC))
    assert set(summary) >= {"suite", "verdict", "started_at", "finished_at", "duration_s", "counts"}
    assert set(summary) >= {"slos", "checks", "artifacts", "notes", "metrics"}
    assert summary["suite"] == "security"
    assert summary["verdict"] == "fail"
    assert summary["counts"] == {"passed": 3, "failed": 1, "skipped": 0, "errors": 1}
    check = summary["checks"][0]
    assert set(check) == {
        "id",
        "requirements",
        "controls",
        "verdict",
        "duration_s",
        "evidence",
        "message",
    }
    assert check["evidence"] == ["security/bandit.json"]
    assert check["requirements"] == ["REQ-SUP-001"]
    assert Summary.model_validate(summary).verdict == "fail"
    assert any("pip-audit: unreachable" in n for n in summary["notes"])
    tools = summary["metrics"]["tools"]
    assert tools["security/bandit.json"] == {
        "tool": "bandit",
        "version": scanners.tool_version("bandit"),
        "collected_at": "2026-11-26T06:00:09+00:00",
    }
    assert tools["security/requirements.lock.txt"]["tool"] == "assay"
    assert tools["security/requirements.lock.txt"]["version"]
