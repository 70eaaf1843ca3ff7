"""`assay report RUN`: traceability CSV, QBR deck and HTML status page for a run."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

# Only what the options need at import time: the reports' plotting and data libraries load
# when a report is written, so `assay --help` stays quick.
from reports.figures import Cadence

report_app = typer.Typer(
    name="report",
    help="Traceability CSV, QBR deck (.pptx) and HTML status page for a run.",
    pretty_exceptions_enable=False,
    add_completion=False,
    # One command, so `assay report RUN --only qbr` must parse options after the argument.
    context_settings={"allow_interspersed_args": True},
)


class Only(StrEnum):
    """Which report to write."""

    ALL = "all"
    TRACEABILITY = "traceability"
    QBR = "qbr"
    HTML = "html"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@report_app.callback(invoke_without_command=True)
def report(
    run: Annotated[Path, typer.Argument(help="The run directory (runs/<run_id>).")],
    out: Annotated[Path | None, typer.Option(help="Output folder; default: RUN/reports.")] = None,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where earlier runs are, for trends; default: RUN/..")
    ] = None,
    only: Annotated[Only, typer.Option(help="Write just one report.")] = Only.ALL,
    cadence: Annotated[Cadence, typer.Option(help="HTML page audience.")] = Cadence.WEEKLY,
    history: Annotated[int, typer.Option(min=1, help="How many runs the trends cover.")] = 12,
) -> None:
    """Write traceability.csv + coverage.csv, qbr.pptx and status.html for RUN, signed.

    The folder's attestation.intoto.dsse.json signs every report file with $ASSAY_SIGNING_KEY
    (else the runs folder's development key); `assay evidence verify FOLDER` checks it.
    """
    from assay.record import RunError, load_run
    from assay.signing import SigningError
    from reports.build import write_reports
    from reports.traceability import TraceabilityError

    try:
        written, counts = write_reports(
            load_run(run), out, runs_dir=runs_dir, only=only.value, cadence=cadence, history=history
        )
    except (RunError, TraceabilityError, SigningError) as exc:
        raise _fail(str(exc)) from None
    for path in written:
        typer.echo(f"wrote {path}")
    if counts:
        typer.echo(
            "traceability: {rows} rows = {links} links, {orphan_tags} orphan tags; requirements: "
            "{covered} covered, {failing} failing, {stale} stale, {unjudged} unjudged, "
            "{no-test} without a test".format(**counts)
        )
        if counts["orphan_tags"]:
            raise _fail(f"{counts['orphan_tags']} tags name no catalog requirement", 1)


def main() -> None:
    """Run the report command on its own (`python -m reports RUN`)."""
    report_app(prog_name="python -m reports")
