"""Reports as an `assay run` generator: traceability, QBR deck and status page for the run."""

from __future__ import annotations

from pathlib import Path

from assay.generators import Generator, GeneratorError
from assay.record import RunError, load_run
from assay.signing import SigningError
from reports.build import write_reports
from reports.index import write_index
from reports.traceability import TraceabilityError


def build(run_dir: Path) -> list[Path]:
    """Write every report for the run (trends from the runs beside it)."""
    try:
        written, counts = write_reports(load_run(run_dir), None, runs_dir=run_dir.parent)
    except (RunError, TraceabilityError, SigningError) as exc:
        raise GeneratorError(str(exc)) from exc
    if counts and counts.get("orphan_tags"):
        raise GeneratorError(f"{counts['orphan_tags']} tags name no catalog requirement")
    return list(written)


GENERATOR = Generator(
    name="reports",
    build=build,
    description="traceability.csv, qbr.pptx and status.html, signed",
    order=20,
)


def build_index(run_dir: Path) -> list[Path]:
    """Refresh the runs directory's index page."""
    return [write_index(run_dir.parent)]


INDEX = Generator(
    name="index",
    build=build_index,
    description="runs/index.html linking every run",
    order=30,
)
