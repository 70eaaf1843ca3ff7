"""Reading finished runs: run.json and each suite's summary.json, typed.

`assay.run` writes a run while suites work; this reads one afterwards, for the generators
(evidence, reports), which never look at live state.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay.catalog import Catalog, CatalogError, load_catalog
from assay.summary import Summary, Verdict

# Folders a run directory holds that are outputs of generators, not suite results.
GENERATED = frozenset({"evidence", "reports"})
# Timings measured after the evidence pack sealed run.json (see LateTimings).
TIMINGS_JSON = "timings.json"


class RunError(Exception):
    """A run directory is missing, unreadable or does not fit the run layout."""


class RunTarget(BaseModel):
    """What the run tested."""

    model_config = ConfigDict(extra="allow")

    url: str | None = None
    kind: str | None = None
    version: str | None = None


class RunEnvironment(BaseModel):
    """Where the run ran."""

    model_config = ConfigDict(extra="allow")

    python: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    host: str | None = None


class RunProvenance(BaseModel):
    """Who made the run: the CI system, its run id and actor, else the local user and host."""

    model_config = ConfigDict(extra="allow")

    ci: str | None = None
    ci_run_id: str | None = None
    ci_run_url: str | None = None
    actor: str | None = None
    host: str | None = None


class RunTimings(BaseModel):
    """How long the run's phases before its generators took, in seconds (run.json `timings`).

    Each suite's time is its summary's `duration_s`, recorded once in run.json's suite entry
    and read from there into `suites`, not written a second time.
    """

    model_config = ConfigDict(extra="allow")

    setup_s: float | None = None  # dev.py's install before the main job, when it ran one
    target_s: float | None = None  # starting and stopping the target
    # The suites' wall time when some ran side by side (less than the sum of theirs).
    suites_s: float | None = None
    suites: dict[str, float] = Field(default_factory=dict)


class CiTimings(BaseModel):
    """The CI job around the main job: each phase's wall time and the tests' exit code."""

    model_config = ConfigDict(extra="allow")

    phases: dict[str, float] = Field(default_factory=dict)
    tests_exit: int | None = None


class LateTimings(BaseModel):
    """The run's `timings.json`: what is measured after the evidence pack sealed run.json.

    The evidence generator hashes run.json into the signed pack, so the generators' times,
    the run's total and CI's phases go to this file beside it, which the pack does not claim;
    the pack's run.json and the run directory's stay the same bytes.
    """

    model_config = ConfigDict(extra="allow")

    run_id: str
    total_s: float | None = None  # `assay run`'s wall time, setup by dev.py not included
    generators: dict[str, float] = Field(default_factory=dict)
    ci: CiTimings | None = None


class RunRecord(BaseModel):
    """The `run.json` at the top of a run directory."""

    model_config = ConfigDict(extra="allow")

    run_id: str
    started_at: datetime
    finished_at: datetime  # a run still in progress has none: the last suite's end stands in
    git_commit: str | None = None
    target: RunTarget = Field(default_factory=RunTarget)
    environment: RunEnvironment = Field(default_factory=RunEnvironment)
    provenance: RunProvenance = Field(default_factory=RunProvenance)
    suites: dict[str, Verdict] = Field(default_factory=dict)
    timings: RunTimings = Field(default_factory=RunTimings)  # only suites in older runs

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        # Accept both `"git_commit": "…"` and `"git": {"commit": "…"}`, suites as
        # `{name: verdict}` or `{name: {"verdict": …, "finished_at": …}}`, and null target.
        # Suite durations come from the suite entries into `timings.suites`.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        git = data.get("git")
        if "git_commit" not in data and isinstance(git, dict):
            data["git_commit"] = git.get("commit")
        if data.get("target") is None:
            data.pop("target", None)
        suites = data.get("suites") or {}
        if isinstance(suites, dict):
            timings = dict(data.get("timings") or {})
            timings.setdefault(
                "suites",
                {
                    name: entry["duration_s"]
                    for name, entry in suites.items()
                    if isinstance(entry, dict) and entry.get("duration_s") is not None
                },
            )
            data["timings"] = timings
            data["suites"] = {
                name: entry.get("verdict") if isinstance(entry, dict) else entry
                for name, entry in suites.items()
            }
            if not data.get("finished_at"):
                ends = [e.get("finished_at") for e in suites.values() if isinstance(e, dict)]
                data["finished_at"] = max([e for e in ends if e], default=data.get("started_at"))
        return data


@dataclass(frozen=True)
class Run:
    """One run directory read from disk: its record and every suite's summary."""

    path: Path
    record: RunRecord
    summaries: dict[str, Summary] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.record.run_id

    def catalog_dir(self) -> Path | None:
        """The catalog snapshot stored with the run, if the run kept one."""
        folder = self.path / "catalog"
        return folder if any(folder.glob("*.yaml")) else None

    def catalog(self) -> Catalog:
        """The catalog as it was for this run (its snapshot), else the installed one."""
        try:
            return load_catalog(self.catalog_dir())
        except CatalogError as exc:
            raise RunError(f"{self.path}: catalog: {exc}") from exc


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunError(f"{path}: missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: not valid JSON: {exc}") from exc


def load_run(path: Path) -> Run:
    """Read a run directory; raise RunError naming the file that is missing or corrupt."""
    if not path.is_dir():
        raise RunError(f"{path}: not a run directory")
    try:
        record = RunRecord.model_validate(_read_json(path / "run.json"))
    except ValidationError as exc:
        raise RunError(f"{path / 'run.json'}: does not fit run.json: {exc}") from exc
    summaries: dict[str, Summary] = {}
    for summary_path in sorted(path.glob("*/summary.json")):
        suite = summary_path.parent.name
        if suite in GENERATED:
            continue
        try:
            summaries[suite] = Summary.model_validate(_read_json(summary_path))
        except ValidationError as exc:
            raise RunError(f"{summary_path}: does not fit summary.json: {exc}") from exc
    return Run(path=path, record=record, summaries=summaries)


def load_late_timings(path: Path) -> LateTimings | None:
    """A run directory's timings.json, or None when the run has none (made before them)."""
    if not (path / TIMINGS_JSON).is_file():
        return None
    try:
        return LateTimings.model_validate(_read_json(path / TIMINGS_JSON))
    except ValidationError as exc:
        raise RunError(f"{path / TIMINGS_JSON}: does not fit {TIMINGS_JSON}: {exc}") from exc


def load_runs(runs_dir: Path) -> list[Run]:
    """Every run under a runs directory, oldest first (by start time, then id)."""
    if not runs_dir.is_dir():
        raise RunError(f"{runs_dir}: not a runs directory")
    runs = [load_run(p.parent) for p in runs_dir.glob("*/run.json")]
    if not runs:
        raise RunError(f"{runs_dir}: holds no runs (no */run.json)")
    return sorted(runs, key=lambda r: (r.record.started_at, r.run_id))


def history(run: Run, runs_dir: Path | None = None, limit: int = 12) -> list[Run]:
    """The run and the runs before it in its runs directory, oldest first, at most `limit`."""
    folder = runs_dir or run.path.parent
    try:
        runs = load_runs(folder)
    except RunError:
        runs = []
    earlier = [r for r in runs if r.record.started_at <= run.record.started_at]
    earlier = [r for r in earlier if r.run_id != run.run_id]
    return [*earlier, run][-limit:]


def write_atomic(path: Path, data: bytes) -> Path:
    """Write a file through a temporary sibling and a rename, so no partial file is left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
