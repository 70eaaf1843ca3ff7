"""Freshness audit: ok, failing, stale and none, judged at a chosen moment."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from evidence.audit import Freshness, audit
from evidence.run import load_run, load_runs
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C


def _status(runs_dir: Path, as_of: datetime) -> dict[str, Freshness]:
    runs = load_runs(runs_dir)
    return {row.control_id: row.status for row in audit(runs, runs[-1].catalog(), as_of)}


def test_all_controls_fresh_right_after_the_latest_run(runs_dir: Path) -> None:
    latest = load_run(runs_dir / RUN_C).record.finished_at
    assert set(_status(runs_dir, latest + timedelta(hours=1)).values()) == {Freshness.OK}


def test_latest_failing_evidence_is_flagged(runs_dir: Path) -> None:
    shutil.rmtree(runs_dir / RUN_C)
    status = _status(runs_dir, load_run(runs_dir / RUN_B).record.finished_at)
    assert status["CC7.5"] == Freshness.FAILING
    assert status["A1.2"] == Freshness.FAILING
    assert status["CC6.8"] == Freshness.OK


def test_old_passing_evidence_is_stale_by_each_controls_own_window(runs_dir: Path) -> None:
    latest = load_run(runs_dir / RUN_C).record.finished_at
    status = _status(runs_dir, latest + timedelta(days=10))
    assert status["CC6.8"] == Freshness.STALE  # 7-day freshness
    assert status["CC7.1"] == Freshness.OK  # 30-day freshness


def test_controls_with_no_evidence_are_flagged(runs_dir: Path) -> None:
    for run in (RUN_A, RUN_B, RUN_C):
        shutil.rmtree(runs_dir / run / "security")
    status = _status(runs_dir, load_run(runs_dir / RUN_C).record.finished_at)
    assert status["CC6.8"] == Freshness.NONE
    assert status["CC7.1"] == Freshness.NONE


def test_audit_names_the_latest_passing_run(runs_dir: Path) -> None:
    shutil.rmtree(runs_dir / RUN_C)
    runs = load_runs(runs_dir)
    row = next(
        r
        for r in audit(runs, runs[-1].catalog(), runs[-1].record.finished_at)
        if r.control_id == "CC7.5"
    )
    assert row.latest_run == RUN_B
    assert row.latest_passing_run == RUN_A
    assert row.flagged
