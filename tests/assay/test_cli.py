"""The `assay` command: help everywhere, run verdicts and exit codes, catalog check."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay import suites
from assay.cli import app
from assay.run import Run
from assay.summary import Check, Counts, Summary, Verdict, utcnow
from assay.target import Target
from assay.testing import StubService, stub_service

runner = CliRunner()


def judged(verdict: Verdict) -> suites.SuiteFunction:
    def suite(run: Run, target: Target) -> Summary:
        now = utcnow()
        failed = verdict is Verdict.FAIL
        return Summary(
            suite=f"fake-{verdict}",
            verdict=verdict,
            started_at=now,
            finished_at=now,
            duration_s=0.1,
            counts=Counts(passed=0 if failed else 1, failed=int(failed)),
            checks=[
                Check(
                    id="x.feature::Something",
                    verdict=verdict,
                    message=(
                        "Scenario: Something\n  ✘ Then it works\n      expected HTTP 201, got 409"
                    ),
                )
            ],
        )

    return suite


def broken(run: Run, target: Target) -> Summary:
    raise suites.SuiteError("tool crashed")


@pytest.fixture
def fakes() -> Iterator[None]:
    for verdict in (Verdict.PASS, Verdict.FAIL):
        suites.register(suites.Suite(name=f"fake-{verdict}", run=judged(verdict), order=900))
    suites.register(suites.Suite(name="fake-error", run=broken, order=901))
    yield
    for name in ("fake-pass", "fake-fail", "fake-error"):
        suites.unregister(name)


def _runs(runs_dir: Path) -> list[Path]:
    """Run directories (not the signing key's `.keys` folder, nor the runs' index.html)."""
    return [p.parent for p in runs_dir.glob("*/run.json")]


@pytest.fixture
def stub() -> Iterator[StubService]:
    with stub_service() as service:
        yield service


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["catalog"], ["catalog", "check"], ["suites"], ["timings", "record"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_a_passing_suite_exits_zero_and_records_the_run(
    fakes: None, stub: StubService, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["run", "fake-pass", "--target-url", stub.base_url, "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = _runs(tmp_path)
    data = json.loads((run_dir / "run.json").read_text())
    assert data["suites"]["fake-pass"]["verdict"] == "pass"
    assert data["target"]["version"] == "9.9.9-stub"
    assert data["target"]["kind"] == "remote"
    assert "PASS" in result.output
    # One overall verdict, on the screen and in run.json, as the reports render it.
    assert data["overall"] == {"outcome": "pass", "label": "pass"}
    assert "overall: pass (run.json `overall`)" in result.output
    # then the generators build the run's artefacts, signed with a local key made once
    assert (run_dir / "evidence" / "manifest.json").is_file()
    assert (run_dir / "reports" / "status.html").is_file()
    assert (tmp_path / ".keys" / "evidence-signing.pem").is_file()


def test_a_failing_suite_exits_non_zero_and_says_which_step(
    fakes: None, stub: StubService, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "fake-pass",
            "fake-fail",
            "--target-url",
            stub.base_url,
            "--runs-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "✘ Then it works expected HTTP 201, got 409" in result.output


def test_a_suite_that_cannot_judge_is_an_error(
    fakes: None, stub: StubService, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["run", "fake-error", "--target-url", stub.base_url, "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    (run_dir,) = _runs(tmp_path)
    saved = Summary.read(run_dir / "fake-error" / "summary.json")
    assert saved.verdict is Verdict.ERROR
    assert saved.notes == ["suite could not judge: tool crashed"]


def test_a_later_suite_resumes_the_run(fakes: None, stub: StubService, tmp_path: Path) -> None:
    base = ["--target-url", stub.base_url, "--runs-dir", str(tmp_path)]
    assert runner.invoke(app, ["run", "fake-pass", *base]).exit_code == 0
    (run_dir,) = _runs(tmp_path)
    runner.invoke(app, ["run", "fake-fail", "--run-id", run_dir.name, *base])
    assert set(json.loads((run_dir / "run.json").read_text())["suites"]) == {
        "fake-pass",
        "fake-fail",
    }


def test_an_unreachable_target_is_an_error_for_every_suite(fakes: None, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["run", "fake-pass", "--target-url", "http://127.0.0.1:9", "--runs-dir", str(tmp_path)],
        env={"ASSAY_READY_TIMEOUT_S": "0.2"},
    )
    assert result.exit_code == 1
    (run_dir,) = _runs(tmp_path)
    assert Summary.read(run_dir / "fake-pass" / "summary.json").verdict is Verdict.ERROR


def test_an_unknown_suite_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "nope", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert not _runs(tmp_path), "no run is created for a typo"


def test_catalog_check_passes_on_this_checkout() -> None:
    result = runner.invoke(app, ["catalog", "check"])
    assert result.exit_code == 0, result.output
    assert "catalog check: PASS" in result.output


def test_catalog_check_fails_on_an_unknown_tag(tmp_path: Path) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "x.feature").write_text("@REQ-NOPE-001\nFeature: X\n")
    result = runner.invoke(app, ["catalog", "check", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown id REQ-NOPE-001" in result.output


def test_suites_option_is_the_same_as_naming_them(
    fakes: None, stub: StubService, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            *["run", "--suites", "fake-pass,fake-fail", "--target-url", stub.base_url],
            *["--runs-dir", str(tmp_path), "--no-generate"],
        ],
    )
    assert result.exit_code == 1
    (run_dir,) = _runs(tmp_path)
    assert list(json.loads((run_dir / "run.json").read_text())["suites"]) == [
        "fake-pass",
        "fake-fail",
    ]
    assert not (run_dir / "evidence").exists()


# Libraries a report, a load test or an experiment needs, which no help screen does.
HEAVY = {"matplotlib", "pandas", "pptx", "locust", "chaoslib", "schemathesis", "hypothesis"}


@pytest.mark.parametrize("command", [[], ["run"], ["report"], ["evidence"], ["stack"]])
def test_the_cli_starts_without_the_reports_or_the_suites_libraries(command: list[str]) -> None:
    # `assay --help` took 9-10 s when mounting `assay report` drew in matplotlib and pandas.
    shown = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "assay", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Usage" in shown.stdout
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in shown.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "typer" in imported  # the import log was read
    assert imported & HEAVY == set()


def failing_check_in_a_passing_suite(run: Run, target: Target) -> Summary:
    now = utcnow()
    return Summary(
        suite="fake-mixed",
        verdict=Verdict.PASS,  # what the suite concluded; its failing check decides
        started_at=now,
        finished_at=now,
        duration_s=0.1,
        counts=Counts(passed=1, failed=1),
        checks=[
            Check(id="a", verdict=Verdict.PASS),
            Check(id="b", verdict=Verdict.FAIL, message="broke"),
        ],
    )


def test_a_failing_check_fails_the_run_whatever_its_suite_concluded(
    stub: StubService, tmp_path: Path
) -> None:
    suites.register(suites.Suite(name="fake-mixed", run=failing_check_in_a_passing_suite))
    try:
        result = runner.invoke(
            app, ["run", "fake-mixed", "--target-url", stub.base_url, "--runs-dir", str(tmp_path)]
        )
    finally:
        suites.unregister("fake-mixed")
    assert result.exit_code == 1, result.output
    (run_dir,) = _runs(tmp_path)
    overall = json.loads((run_dir / "run.json").read_text())["overall"]
    assert overall == {"outcome": "fail", "label": "fail (1 failing check)"}
    assert "overall: fail (1 failing check)" in result.output
