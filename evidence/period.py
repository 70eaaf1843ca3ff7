"""A period, not a moment: each control's runs, gaps and failures between two dates.

The audit reads evidence only from packs whose signature verifies against the expected key
(`evidence.verify`); a run's loose files (a forged summary.json beside a pack, or a run with
no pack at all) never count. Each verified pack is unpacked into a private folder and read
from there, so what is judged is exactly what was signed. A run that cannot be read is
reported and skipped; the others are still audited.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from assay.catalog import Catalog
from assay.coverage import ControlState, control_standing
from assay.record import Run, RunError, load_run
from assay.trust import Trust
from evidence.pack import pack_name
from evidence.verify import verify_pack


@dataclass(frozen=True)
class Unread:
    """A run the audit could not count, and why."""

    run: str
    reason: str


@dataclass
class Verified:
    """The runs read from verified packs, and the runs left out."""

    runs: list[Run] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # verified, but after --as-of


def _unpack(pack: Path, into: Path) -> Run:
    with zipfile.ZipFile(pack) as archive:
        for member in archive.infolist():
            # The pack's own names only: no absolute paths or `..` escape the folder.
            if member.filename.startswith("/") or ".." in Path(member.filename).parts:
                raise RunError(f"{pack.name}: member {member.filename!r} escapes the pack")
        archive.extractall(into)
    return load_run(into)


@contextmanager
def verified_runs(runs_dir: Path, trust: Trust, as_of: datetime) -> Iterator[Verified]:
    """Every run of `runs_dir` whose pack verifies and which ended by `as_of`, oldest first."""
    if not runs_dir.is_dir():
        raise RunError(f"{runs_dir}: not a runs directory")
    found = Verified()
    with tempfile.TemporaryDirectory(prefix="assay-audit-") as scratch:
        for folder in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
            if folder.name.startswith(".") or not (folder / "run.json").exists():
                continue
            pack = folder / "evidence" / pack_name(folder.name)
            if not pack.is_file():
                found.unread.append(Unread(folder.name, "no evidence pack: not evidence"))
                continue
            # Verify a private copy, then read that same copy: nothing changes in between.
            copy = Path(scratch) / folder.name / pack.name
            copy.parent.mkdir(parents=True)
            copy.write_bytes(pack.read_bytes())
            result = verify_pack(copy, trust)
            if not result.ok:
                problems = "; ".join(str(f) for f in result.findings[:3])
                found.unread.append(Unread(folder.name, f"pack does not verify: {problems}"))
                continue
            try:
                run = _unpack(copy, copy.parent / "run")
                run.catalog()  # a snapshot that cannot be read is reported here, not later
            except (RunError, OSError, zipfile.BadZipFile) as exc:
                found.unread.append(Unread(folder.name, f"unreadable: {exc}"))
                continue
            if run.record.finished_at > as_of:
                found.later.append(run.run_id)
                continue
            found.runs.append(run)
        found.runs.sort(key=lambda r: (r.record.started_at, r.run_id))
        yield found


@dataclass(frozen=True)
class RunResult:
    """How a control stood in one run of the period."""

    run_id: str
    at: datetime
    state: ControlState
    reason: str

    @property
    def failed(self) -> bool:
        """Whether the run's evidence shows the control not operating."""
        return self.state is ControlState.NOT_SATISFIED


@dataclass(frozen=True)
class Gap:
    """A stretch of the period longer than the control's frequency with no evidence."""

    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        """The gap's length in days."""
        return round((self.end - self.start).total_seconds() / 86400, 1)


@dataclass(frozen=True)
class ControlPeriod:
    """One control over the period: every run with its result, the gaps and the failures."""

    control_id: str
    title: str
    frequency_days: int
    runs: list[RunResult]
    gaps: list[Gap]

    @property
    def failures(self) -> list[RunResult]:
        """The runs in which the control did not operate."""
        return [r for r in self.runs if r.failed]

    @property
    def flagged(self) -> bool:
        """Whether the period shows a gap or a failure (or no evidence at all)."""
        return bool(self.gaps or self.failures or not self.runs)


def period_audit(
    runs: list[Run], catalog: Catalog, start: datetime, end: datetime
) -> list[ControlPeriod]:
    """Each catalog control over [start, end], judged run by run with the run's own catalog.

    A control's frequency is its `freshness_days`: evidence is due at least that often, so a
    stretch longer than it (from the period's start, between runs, or up to its end) is a gap.
    """
    inside = [r for r in runs if start <= r.record.finished_at <= end]
    catalogs = {r.run_id: r.catalog() for r in inside}
    periods = []
    for control_id, control in catalog.controls.items():
        results = []
        for run in inside:
            own = catalogs[run.run_id]
            standing = control_standing(
                run, own if control_id in own.controls else catalog, control_id
            )
            if not standing.has_evidence:
                continue  # nothing in the run is evidence for it (skipped is not): no result
            at = max(link.finished_at for link in standing.links)
            results.append(RunResult(run.run_id, at, standing.state, standing.reason))
        stamps = [start, *(r.at for r in results), end]
        gaps = [
            Gap(a, b)
            for a, b in pairwise(stamps)
            if (b - a).total_seconds() > control.freshness_days * 86400
        ]
        periods.append(
            ControlPeriod(control_id, control.title, control.freshness_days, results, gaps)
        )
    return periods
