"""Fixtures for report tests: a copy of the fixture runs, loaded report data, external tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidence.run import load_run
from reports import figures, traceability
from reports.figures import ReportData
from tests.fixtures.runs.make_runs import HERE as FIXTURE_RUNS
from tests.fixtures.runs.make_runs import RUN_B, RUN_C


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A writable copy of the three fixture runs."""
    target = tmp_path / "runs"
    shutil.copytree(FIXTURE_RUNS, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def data_b(runs_dir: Path) -> ReportData:
    """Report data for the failing run B (history: A, B)."""
    return figures.load(load_run(runs_dir / RUN_B))


@pytest.fixture
def data_c(runs_dir: Path) -> ReportData:
    """Report data for the latest run C (history: A, B, C)."""
    return figures.load(load_run(runs_dir / RUN_C))


@pytest.fixture
def trace_b(data_b: ReportData) -> traceability.Traceability:
    """Run B's traceability."""
    return traceability.build(data_b)
