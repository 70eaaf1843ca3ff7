"""The main job and CI say how long they took, and record it without unsealing the evidence pack."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay import suites
from assay.cli import app
from assay.manifest import sha256_file
from assay.record import (
    TIMINGS_JSON,
    LateTimings,
    RunRecord,
    RunTimings,
    load_late_timings,
    load_run,
)
from assay.run import Run
from assay.screen import timing_lines
from assay.signing import signer_for
from assay.summary import Counts, Summary, Verdict, utcnow
from assay.target import Target
from assay.testing import stub_service
from assay.trust import Trust
from evidence.pack import pack_name
from evidence.verify import verify_pack

runner = CliRunner()
SUITE = "fake-timed"


def _timed(run: Run, target: Target) -> Summary:
    now = utcnow()
    return Summary(
        suite=SUITE,
        verdict=Verdict.PASS,
        started_at=now,
        finished_at=now,
        duration_s=1.25,
        counts=Counts(passed=1),
    )


@dataclass(frozen=True)
class MainJob:
    """What one `assay run` left: its output, its run directory and its runs folder."""

    output: str
    run_dir: Path
    runs_dir: Path


@pytest.fixture(scope="module")
def main_job(tmp_path_factory: pytest.TempPathFactory) -> MainJob:
    # One cheap run (a fake suite against a stub target) with every generator, as the main
    # job ends: dev.py passed its install time in.
    runs_dir = tmp_path_factory.mktemp("runs")
    suites.register(suites.Suite(name=SUITE, run=_timed, order=900))
    try:
        with stub_service() as stub:
            result = runner.invoke(
                app,
                ["run", SUITE, "--target-url", stub.base_url, "--runs-dir", str(runs_dir)],
                env={"ASSAY_SETUP_S": "12.5", "COLUMNS": "160"},
            )
    finally:
        suites.unregister(SUITE)
    assert result.exit_code == 0, result.output
    (run_dir,) = [p.parent for p in runs_dir.glob("*/run.json")]
    return MainJob(result.output, run_dir, runs_dir)


def test_the_main_job_records_its_timings(main_job: MainJob) -> None:
    record = load_run(main_job.run_dir).record
    assert record.timings.setup_s == 12.5
    assert record.timings.target_s is not None
    assert record.timings.target_s >= 0
    assert record.timings.suites == {SUITE: 1.25}  # the suite's own duration_s, read back
    late = load_late_timings(main_job.run_dir)
    assert late is not None
    assert late.run_id == main_job.run_dir.name
    assert list(late.generators) == ["evidence", "reports", "index"]
    assert late.total_s is not None
    assert late.total_s >= sum(late.generators.values())
    assert late.ci is None


def _block(output: str) -> dict[str, str]:
    """The closing timings block, each line by its first word."""
    lines = output.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line == "timings")
    return {line.split()[0]: line for line in lines[start + 1 :]}


def test_the_main_job_ends_with_its_timings(main_job: MainJob) -> None:
    block = _block(main_job.output)
    assert block["setup"].split()[:3] == ["setup", "12.5", "s"]
    assert block["suites"].split() == ["suites", "1.2", "s", SUITE, "1.2"]
    assert block["generators"].split()[3::3] == ["evidence", "reports", "index"]
    assert block["total"].split()[0] == "total"
    assert "run.json" in block["recorded"]
    assert TIMINGS_JSON in block["recorded"]
    assert list(block)[-2:] == ["total", "recorded"]


def _pack_run_json(run_dir: Path) -> bytes:
    with zipfile.ZipFile(run_dir / "evidence" / pack_name(run_dir.name)) as archive:
        assert TIMINGS_JSON not in archive.namelist()  # the pack claims no timings.json
        return archive.read("run.json")


def test_ci_timings_go_beside_the_run_and_the_pack_still_holds(main_job: MainJob) -> None:
    run_dir = main_job.run_dir
    sealed = (run_dir / "run.json").read_bytes()
    assert _pack_run_json(run_dir) == sealed  # the main job wrote no run.json after the pack
    result = runner.invoke(
        app,
        [
            *["timings", "record", run_dir.name, "--runs-dir", str(main_job.runs_dir)],
            *["--phase", "apt=0.4", "--phase", "main_job=61.5", "--phase", "tests=300"],
            *["--phase", "total=362", "--tests-exit", "5"],
        ],
    )
    assert result.exit_code == 0, result.output
    late = load_late_timings(run_dir)
    assert late is not None
    assert late.ci is not None
    assert late.ci.phases == {"apt": 0.4, "main_job": 61.5, "tests": 300.0, "total": 362.0}
    assert late.ci.tests_exit == 5
    assert list(late.generators) == ["evidence", "reports", "index"]  # the main job's stay
    assert (run_dir / "run.json").read_bytes() == sealed
    manifest = json.loads((run_dir / "evidence" / "manifest.json").read_text())
    (claimed,) = [item["sha256"] for item in manifest["items"] if item["path"] == "run.json"]
    assert claimed == sha256_file(run_dir / "run.json")
    key_id = signer_for(main_job.runs_dir).key_id
    archive = run_dir / "evidence" / pack_name(run_dir.name)
    checked = verify_pack(archive, Trust.pinned(key_id, allow_dev=True))
    assert checked.ok, checked.findings


@pytest.mark.parametrize(
    "args",
    [
        ["20261126T080000Z-abcdef", "--phase", "tests=1"],  # no such run
        ["../elsewhere", "--phase", "tests=1"],  # not a run id
        ["RUN", "--phase", "tests"],  # no seconds
        ["RUN", "--phase", "tests=-1"],
        ["RUN", "--phase", "=3"],
    ],
)
def test_the_ci_recorder_refuses_what_it_cannot_record(tmp_path: Path, args: list[str]) -> None:
    run = Run.create(tmp_path)
    args = [run.run_id if arg == "RUN" else arg for arg in args]
    result = runner.invoke(app, ["timings", "record", *args, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert not (run.directory / TIMINGS_JSON).exists()


def test_timing_lines_name_each_phase_and_the_total() -> None:
    sealed = RunTimings(setup_s=80.0, target_s=2.5, suites={"acceptance": 40.0, "perf": 60.25})
    late = LateTimings(
        run_id="20261126T080000Z-abcdef",
        total_s=120.0,
        generators={"evidence": 5.0, "reports": 10.0, "index": 0.5},
    )
    lines = timing_lines(sealed, late)
    assert lines[0] == "timings"
    assert "setup" in lines[1]
    assert "80.0 s" in lines[1]
    assert "target" in lines[2]
    assert "2.5 s" in lines[2]
    assert lines[3].split() == ["suites", "100.2", "s", "acceptance", "40.0", "·", "perf", "60.2"]
    assert "15.5 s" in lines[4]
    assert "evidence 5.0 · reports 10.0 · index 0.5" in lines[4]
    assert lines[5].split()[:3] == ["other", "1.8", "s"]  # 120 - 2.5 - 100.25 - 15.5
    assert lines[6].split() == ["total", "120.0", "s,", "200.0", "s", "with", "setup"]


def test_suites_side_by_side_show_their_wall_time_and_add_up_to_the_total() -> None:
    suites = {"perf": 30.0, "chaos": 190.0, "acceptance": 25.0, "security": 30.0}
    sealed = RunTimings(target_s=5.0, suites_s=222.5, suites=suites)
    lines = timing_lines(sealed, LateTimings(run_id="x", total_s=230.0))
    suites_line = next(line for line in lines if line.split()[0] == "suites")
    assert suites_line.split()[:3] == ["suites", "222.5", "s"]
    assert "(275.0 s of suite time: some ran side by side)" in suites_line
    assert next(line for line in lines if line.split()[0] == "other").split()[1] == "2.5"


def test_a_run_without_setup_prints_no_setup_line() -> None:
    lines = timing_lines(RunTimings(target_s=1.0), LateTimings(run_id="x", total_s=3.0))
    assert not any(line.split()[0] == "setup" for line in lines)
    assert lines[-2].split() == ["total", "3.0", "s"]


def test_a_run_json_from_before_timings_reads_with_its_suite_times() -> None:
    record = RunRecord.model_validate(
        {
            "run_id": "20261126T080000Z-abcdef",
            "started_at": "2026-11-26T08:00:00+00:00",
            "suites": {"perf": {"verdict": "pass", "duration_s": 30.5}, "chaos": "fail"},
        }
    )
    assert record.timings == RunTimings(suites={"perf": 30.5})
    assert record.suites == {"perf": Verdict.PASS, "chaos": Verdict.FAIL}
