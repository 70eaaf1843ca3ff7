"""runs/index.html lists every run, newest first, and links what each run has."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from assay.cli import app
from reports.index import rows, write_index
from tests.fixtures.runs.make_runs import HERE as FIXTURE_RUNS


def _copy_runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURE_RUNS, runs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return runs


def test_index_lists_runs_newest_first_with_links(tmp_path: Path) -> None:
    runs = _copy_runs(tmp_path)
    newest = sorted(p.name for p in runs.iterdir() if p.is_dir())[-1]
    (runs / newest / "reports").mkdir(exist_ok=True)
    (runs / newest / "reports" / "status.html").write_text("<html></html>")
    found = rows(runs)
    assert [r.run_id for r in found] == sorted((r.run_id for r in found), reverse=True)
    assert found[0].status == f"{newest}/reports/status.html"
    assert all(r.status is None for r in found[1:])
    html = write_index(runs).read_text()
    assert f'href="{newest}/reports/status.html"' in html
    assert html.count("<tr>") == len(found) + 1
    assert '<html lang="en">' in html
    assert "<caption>" in html


def test_an_unreadable_run_is_listed_with_the_reason(tmp_path: Path) -> None:
    runs = _copy_runs(tmp_path)
    broken = runs / "20261001T000000Z-broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    problem = next(r for r in rows(runs) if r.run_id == broken.name).problem
    assert problem is not None
    assert problem.startswith("unreadable")


def test_assay_runs_lists_verdicts(tmp_path: Path) -> None:
    runs = _copy_runs(tmp_path)
    result = CliRunner().invoke(app, ["runs", "--runs-dir", str(runs)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for run in runs.iterdir():
        if (run / "run.json").exists():
            assert run.name in result.output
    assert "FAIL" in result.output
    assert "PASS" in result.output
