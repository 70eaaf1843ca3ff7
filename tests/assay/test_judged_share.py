"""Skipped is not evidence: a suite that judged too little of what it ran is not green."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay import suites
from assay.cli import app
from assay.run import Run
from assay.summary import Check, Counts, Summary, Verdict, require_judged, utcnow
from assay.target import Target
from assay.testing import StubService, stub_service
from features.adapter import deselect_args, deselected_tags

runner = CliRunner()
SEEN: dict[str, str] = {}


def _summary(passed: int, skipped: int, verdict: Verdict = Verdict.PASS) -> Summary:
    now = utcnow()
    checks = [Check(id=f"ok-{i}", verdict=Verdict.PASS) for i in range(passed)]
    checks += [Check(id=f"skip-{i}", verdict=Verdict.SKIPPED) for i in range(skipped)]
    return Summary(
        suite="fake-partial",
        verdict=verdict,
        started_at=now,
        finished_at=now,
        duration_s=0.1,
        counts=Counts(passed=passed, skipped=skipped),
        checks=checks,
        notes=["skipped: needs the target's admin account"] if skipped else [],
    )


def _partial(passed: int, skipped: int, verdict: Verdict) -> suites.SuiteFunction:
    def suite(run: Run, target: Target) -> Summary:
        SEEN["tags"] = os.environ.get("ASSAY_DESELECT_TAGS", "")
        return _summary(passed, skipped, verdict)

    return suite


@pytest.fixture
def stub() -> Iterator[StubService]:
    with stub_service() as service:
        yield service


@pytest.fixture
def register() -> Iterator[None]:
    yield
    suites.unregister("fake-partial")


def _run(stub: StubService, tmp_path: Path, *extra: str) -> tuple[int, Summary]:
    args = ["run", "fake-partial", "--target-url", stub.base_url, "--runs-dir", str(tmp_path)]
    result = runner.invoke(app, [*args, "--no-generate", *extra])
    (run_json,) = tmp_path.glob("*/run.json")
    return result.exit_code, Summary.read(run_json.parent / "fake-partial" / "summary.json")


def test_the_summary_says_how_much_was_judged() -> None:
    summary = _summary(passed=3, skipped=1)
    assert summary.counts.judged == 3
    assert summary.judged_share == 0.75
    saved = json.loads(summary.model_dump_json())
    assert saved["counts"]["judged"] == 3
    assert saved["judged_share"] == 0.75
    assert Summary.model_validate(saved).judged_share == 0.75  # and reads back


def test_a_summary_written_before_judged_counts_still_reads() -> None:
    old = {"passed": 2, "failed": 0, "skipped": 2, "errors": 0}
    assert Counts.model_validate(old).judged == 2


def test_a_suite_whose_every_check_was_skipped_is_not_green_and_the_run_fails(
    register: None, stub: StubService, tmp_path: Path
) -> None:
    suites.register(suites.Suite(name="fake-partial", run=_partial(0, 4, Verdict.SKIPPED)))
    code, saved = _run(stub, tmp_path)
    assert code == 1
    assert saved.verdict is Verdict.ERROR
    assert saved.notes[0].startswith("not green: judged 0 of 4 checks (0 %)")


def test_a_run_that_judged_less_than_the_set_share_is_not_green(
    register: None, stub: StubService, tmp_path: Path
) -> None:
    # about half the scenarios skip (say, no admin credentials) and the suite says "pass"
    suites.register(suites.Suite(name="fake-partial", run=_partial(5, 5, Verdict.PASS)))
    code, saved = _run(stub, tmp_path)
    assert code == 1
    assert saved.verdict is Verdict.ERROR
    assert saved.judged_share == 0.5
    assert "below the 80 % a green run needs (ASSAY_MIN_JUDGED_SHARE)" in saved.notes[0]


def test_the_share_is_a_setting(
    register: None, stub: StubService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_MIN_JUDGED_SHARE", "0.5")
    suites.register(suites.Suite(name="fake-partial", run=_partial(5, 5, Verdict.PASS)))
    code, saved = _run(stub, tmp_path)
    assert code == 0
    assert saved.verdict is Verdict.PASS


def test_a_bad_share_setting_is_a_usage_error(
    stub: StubService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_MIN_JUDGED_SHARE", "80")
    result = runner.invoke(app, ["run", "--target-url", stub.base_url, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "ASSAY_MIN_JUDGED_SHARE must be from 0 to 1" in result.output


def test_deselecting_a_tag_on_purpose_reaches_the_suites(
    register: None, stub: StubService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_DESELECT_TAGS", raising=False)
    suites.register(suites.Suite(name="fake-partial", run=_partial(5, 0, Verdict.PASS)))
    code, saved = _run(stub, tmp_path, "--deselect-tag", "admin", "--deselect-tag", "@exclusive")
    os.environ.pop("ASSAY_DESELECT_TAGS", None)  # the CLI sets it for the suites it runs
    assert code == 0
    assert SEEN["tags"] == "admin,exclusive"
    assert saved.verdict is Verdict.PASS


def test_deselected_tags_become_a_pytest_mark_expression() -> None:
    tags = deselected_tags({"ASSAY_DESELECT_TAGS": "admin, @exclusive"})
    assert tags == ["admin", "exclusive"]
    assert deselect_args(tags) == ["-m", "not admin and not exclusive"]
    assert deselect_args([]) == []
    with pytest.raises(suites.SuiteError, match="not a tag name"):
        deselected_tags({"ASSAY_DESELECT_TAGS": "admin or True"})


def test_fail_and_error_are_left_as_they_are() -> None:
    failed = _summary(0, 3, Verdict.FAIL)
    assert require_judged(failed, 0.8) is failed
