"""The `evidence` commands: output, exit codes, and clean failures on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidence.cli import evidence_app
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C

runner = CliRunner()


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key made by `keygen` and exported as ASSAY_SIGNING_KEY."""
    path = tmp_path / "keys" / "signing.key"
    path.parent.mkdir()
    result = runner.invoke(evidence_app, ["keygen", str(path)])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("ASSAY_SIGNING_KEY", str(path))
    return path


def test_build_then_verify(runs_dir: Path, key_file: Path) -> None:
    built = runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    assert built.exit_code == 0, built.output
    pack = runs_dir / RUN_B / "evidence" / f"{RUN_B}.evidence.zip"
    assert pack.is_file()
    checked = runner.invoke(evidence_app, ["verify", str(pack), "--public-key", f"{key_file}.pub"])
    assert checked.exit_code == 0, checked.output
    assert "OK, signature valid" in checked.output


def test_verify_fails_and_names_the_altered_file(runs_dir: Path, key_file: Path) -> None:
    runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    pack = runs_dir / RUN_B / "evidence" / f"{RUN_B}.evidence.zip"
    with zipfile.ZipFile(pack) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["run.json"] = members["run.json"].replace(b'"fail"', b'"pass"')
    with zipfile.ZipFile(pack, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    result = runner.invoke(evidence_app, ["verify", str(pack)])
    assert result.exit_code == 1
    assert "altered: run.json" in result.output


def test_missing_run_directory_is_a_clear_error(tmp_path: Path, key_file: Path) -> None:
    result = runner.invoke(evidence_app, ["build", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "not a run directory" in result.output
    assert "Traceback" not in result.output


def test_corrupt_summary_names_the_file_and_leaves_no_output(
    runs_dir: Path, key_file: Path
) -> None:
    run = runs_dir / RUN_C
    (run / "perf" / "summary.json").write_text('{"suite": "perf", ')
    result = runner.invoke(evidence_app, ["build", str(run)])
    assert result.exit_code == 2
    assert "perf/summary.json: not valid JSON" in result.output
    assert "Traceback" not in result.output
    assert not (run / "evidence").exists()


def test_build_without_a_key_says_how_to_get_one(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    result = runner.invoke(evidence_app, ["build", str(runs_dir / RUN_C)])
    assert result.exit_code == 2
    assert "keygen" in result.output
    assert not (runs_dir / RUN_C / "evidence").exists()


def test_audit_json_and_strict(runs_dir: Path, key_file: Path) -> None:
    for run_id in (RUN_A, RUN_B, RUN_C):
        built = runner.invoke(evidence_app, ["build", str(runs_dir / run_id)])
        assert built.exit_code == 0, built.output
    result = runner.invoke(
        evidence_app, ["audit", str(runs_dir), "--json", "--as-of", "2026-11-26T07:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["status"] for r in rows} == {"ok", "partial"}  # partial: untested requirements
    late = runner.invoke(
        evidence_app, ["audit", str(runs_dir), "--strict", "--as-of", "2027-01-01"]
    )
    assert late.exit_code == 1
    assert "stale" in late.output


def test_audit_rejects_a_bad_date(runs_dir: Path, key_file: Path) -> None:
    result = runner.invoke(evidence_app, ["audit", str(runs_dir), "--as-of", "last tuesday"])
    assert result.exit_code == 2
    assert "not an ISO date" in result.output


def test_publish_missing_pack(tmp_path: Path) -> None:
    result = runner.invoke(evidence_app, ["publish", str(tmp_path / "x.zip"), "--bucket", "b"])
    assert result.exit_code == 2
    assert "no such pack" in result.output


def test_runs_as_a_module_with_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "evidence", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("build", "verify", "audit", "publish", "keygen"):
        assert command in result.stdout
