"""`report RUN`: writes every file, fails cleanly on bad input, runs as a module."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.record import load_run
from reports.bench import main as bench_main
from reports.bench import make_run
from reports.cli import report_app
from tests.fixtures.runs.make_runs import RUN_B, RUN_C

runner = CliRunner()
FILES = {
    "traceability.csv",
    "coverage.csv",
    "traceability.json",
    "qbr.pptx",
    "status.html",
    "attestation.intoto.dsse.json",  # signs the others
}


def test_report_writes_every_file(runs_dir: Path) -> None:
    result = runner.invoke(report_app, [str(runs_dir / RUN_B)])
    assert result.exit_code == 0, result.output
    out = runs_dir / RUN_B / "reports"
    assert {p.name for p in out.iterdir()} == FILES
    with (out / "traceability.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    counts = json.loads((out / "traceability.json").read_text())
    assert len(rows) == counts["rows"] == counts["links"]
    assert counts["orphan_tags"] == 0
    assert "0 orphan tags" in result.output


def test_only_one_report_to_another_folder(runs_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        report_app,
        [
            str(runs_dir / RUN_C),
            "--only",
            "html",
            "--out",
            str(tmp_path / "o"),
            "--cadence",
            "monthly",
        ],
    )
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "o").iterdir()}
    assert written == {"status.html", "attestation.intoto.dsse.json"}


def test_missing_run_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(report_app, [str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "not a run directory" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("broken", ["run.json", "chaos/summary.json"])
def test_corrupt_json_names_the_file_and_writes_nothing(runs_dir: Path, broken: str) -> None:
    run = runs_dir / RUN_C
    (run / broken).write_text("{ not json")
    result = runner.invoke(report_app, [str(run)])
    assert result.exit_code == 2
    assert f"{broken}: not valid JSON" in result.output
    assert not (run / "reports").exists()


def test_a_summary_that_does_not_fit_is_named(runs_dir: Path) -> None:
    path = runs_dir / RUN_C / "perf" / "summary.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "verdict": "great"}))
    result = runner.invoke(report_app, [str(runs_dir / RUN_C)])
    assert result.exit_code == 2
    assert "perf/summary.json: does not fit summary.json" in result.output


def test_orphan_tags_fail_the_command(runs_dir: Path) -> None:
    path = runs_dir / RUN_C / "contract" / "summary.json"
    summary = json.loads(path.read_text())
    summary["checks"][0]["requirements"] = ["REQ-GONE-001"]
    path.write_text(json.dumps(summary))
    result = runner.invoke(report_app, [str(runs_dir / RUN_C), "--only", "traceability"])
    assert result.exit_code == 1
    assert "1 tags name no catalog requirement" in result.output


def test_runs_as_a_module(runs_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reports", str(runs_dir / RUN_C), "--only", "traceability"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "36 rows = 36 links" in result.stdout
    assert "0 unjudged" in result.stdout


def test_benchmark_run_is_a_valid_run(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path, 0, requests=500))
    assert run.summaries["perf"].metrics["requests"] == 500
    lines = (run.path / "perf" / "stats_history.csv").read_text().splitlines()
    assert len(lines) == 501
    assert set(run.summaries) == {"acceptance", "contract", "perf", "chaos", "security"}


def test_benchmark_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["--requests", "2000", "--history", "2"]) == 0
    assert "TOTAL pack+reports" in capsys.readouterr().out
