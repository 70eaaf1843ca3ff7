"""`runs/index.html`: every run with its verdicts, linking its status page and evidence pack."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from assay.record import RunError, load_run, write_atomic


@dataclass(frozen=True)
class RunRow:
    """One line of the index."""

    run_id: str
    started: str = ""
    target: str = ""
    verdicts: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    pack: str | None = None
    problem: str | None = None


def rows(runs_dir: Path) -> list[RunRow]:
    """Every run directory, newest first; an unreadable one is listed with what is wrong."""
    found: list[RunRow] = []
    for run_json in runs_dir.glob("*/run.json"):
        folder = run_json.parent
        try:
            run = load_run(folder)
        except RunError as exc:
            found.append(RunRow(run_id=folder.name, problem=f"unreadable: {exc}"))
            continue
        status = folder / "reports" / "status.html"
        packs = sorted((folder / "evidence").glob("*.evidence.zip"))
        found.append(
            RunRow(
                run_id=run.run_id,
                started=run.record.started_at.strftime("%Y-%m-%d %H:%M UTC"),
                target=f"{run.record.target.url or '?'} ({run.record.target.kind or '?'})",
                verdicts=[(name, str(verdict)) for name, verdict in run.record.suites.items()],
                status=f"{folder.name}/reports/status.html" if status.exists() else None,
                pack=f"{folder.name}/evidence/{packs[-1].name}" if packs else None,
            )
        )
    return sorted(found, key=lambda row: (row.started, row.run_id), reverse=True)


def write_index(runs_dir: Path) -> Path:
    """Write `index.html` into the runs directory."""
    env = Environment(loader=PackageLoader("reports"), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("index.html.j2").render(runs=rows(runs_dir))
    return write_atomic(runs_dir / "index.html", html.encode())
