"""Freshness audit: ok, failing, stale and none, judged at a chosen moment."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from assay.coverage import ControlState, control_standing
from assay.record import load_run, load_runs
from assay.summary import Check, Summary, Verdict
from evidence.audit import Freshness, audit, linked_checks
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C


def _status(runs_dir: Path, as_of: datetime) -> dict[str, Freshness]:
    runs = load_runs(runs_dir)
    return {row.control_id: row.status for row in audit(runs, runs[-1].catalog(), as_of)}


def test_right_after_the_latest_run_controls_are_fresh_or_partial(runs_dir: Path) -> None:
    latest = load_run(runs_dir / RUN_C).record.finished_at
    status = _status(runs_dir, latest + timedelta(hours=1))
    assert set(status.values()) == {Freshness.OK, Freshness.PARTIAL}
    assert status["CC7.5"] == Freshness.OK
    assert status["CC8.1"] == Freshness.PARTIAL  # REQ-REL-001 has no test at all
    assert status["A1.2"] == Freshness.PARTIAL  # a sustained run does not cover the spike


def test_warnings_are_not_ok_they_are_exceptions(runs_dir: Path) -> None:
    path = runs_dir / RUN_C / "chaos" / "summary.json"
    summary = Summary.read(path)
    warned = [c.model_copy(update={"verdict": Verdict.WARNING}) for c in summary.checks]
    summary.model_copy(update={"checks": warned}).write(path.parent)
    latest = load_run(runs_dir / RUN_C).record.finished_at
    status = _status(runs_dir, latest + timedelta(hours=1))
    assert status["CC7.5"] == Freshness.EXCEPTIONS  # was "ok" while every check warned
    assert status["CC7.4"] == Freshness.EXCEPTIONS


def test_the_audit_and_the_oscal_link_checks_alike(runs_dir: Path) -> None:
    # acceptance is not among CC7.5's evidence suites: its failing scenario is not evidence
    path = runs_dir / RUN_C / "acceptance" / "summary.json"
    summary = Summary.read(path)
    extra = Check(id="ops/db.feature::Restart", requirements=["REQ-RES-002"], verdict=Verdict.FAIL)
    summary.model_copy(update={"checks": [*summary.checks, extra]}).write(path.parent)
    run = load_run(runs_dir / RUN_C)
    catalog = run.catalog()
    assert [c.id for _, c in linked_checks(run, catalog, "CC7.5")] == ["chaos/restart-database"]
    standing = control_standing(run, catalog, "CC7.5")
    assert standing.state is ControlState.SATISFIED  # what the OSCAL finding says


def test_latest_failing_evidence_is_flagged(runs_dir: Path) -> None:
    shutil.rmtree(runs_dir / RUN_C)
    status = _status(runs_dir, load_run(runs_dir / RUN_B).record.finished_at)
    assert status["CC7.5"] == Freshness.FAILING
    assert status["A1.2"] == Freshness.FAILING
    assert status["CC7.1"] == Freshness.OK


def test_old_passing_evidence_is_stale_by_each_controls_own_window(runs_dir: Path) -> None:
    latest = load_run(runs_dir / RUN_C).record.finished_at
    status = _status(runs_dir, latest + timedelta(days=10))
    assert status["CC6.1"] == Freshness.STALE  # 7-day freshness
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
