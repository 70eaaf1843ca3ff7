"""Write a run's reports atomically into one folder."""

from __future__ import annotations

import json
from pathlib import Path

from assay.record import Run, write_atomic
from reports import figures, html, qbr, traceability
from reports.attest import sign_reports


def write_reports(
    run: Run,
    out: Path | None = None,
    *,
    runs_dir: Path | None = None,
    only: str = "all",
    cadence: figures.Cadence = figures.Cadence.WEEKLY,
    history: int = 12,
) -> tuple[list[Path], dict[str, int]]:
    """Build every report in memory first, write each file via temp + rename, then sign them."""
    data = figures.load(run, runs_dir, history)
    trace = traceability.build(data)
    counts = traceability.totals(trace)
    files: dict[str, bytes] = {}
    if only in ("all", "traceability"):
        files["traceability.csv"] = trace.rows.to_csv(index=False, lineterminator="\n").encode()
        files["coverage.csv"] = trace.coverage.to_csv(index=False, lineterminator="\n").encode()
        files["traceability.json"] = (
            json.dumps({**counts, "orphans": trace.orphans}, indent=2) + "\n"
        ).encode()
    if only in ("all", "qbr"):
        files["qbr.pptx"] = qbr.build_deck(data, trace)
    if only in ("all", "html"):
        files["status.html"] = html.render(data, trace, cadence)
    folder = out or run.path / "reports"
    written = [write_atomic(folder / name, body) for name, body in files.items()]
    return [*written, sign_reports(run, folder)], counts
