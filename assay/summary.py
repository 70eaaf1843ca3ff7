"""The one `summary.json` shape every suite writes into its run subfolder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    """A suite's, check's or SLO's outcome."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARNING = "warning"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class Counts(BaseModel):
    """How many checks ended each way."""

    model_config = ConfigDict(extra="forbid")

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0


class SloResult(BaseModel):
    """One SLO judged against an observed value."""

    model_config = ConfigDict(extra="forbid")

    id: str
    objective: float
    unit: str
    observed: float | None
    verdict: Verdict
    scope: str | None = None  # e.g. a journey or endpoint group; None = overall


class Check(BaseModel):
    """One test, scenario, experiment or scan result, linked to the catalog."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str | None = None
    requirements: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    verdict: Verdict
    duration_s: float | None = None
    evidence: list[str] = Field(default_factory=list)
    message: str | None = None


class Summary(BaseModel):
    """What a suite concluded; evidence and reports read only this and the files it names."""

    model_config = ConfigDict(extra="forbid")

    suite: str
    verdict: Verdict
    started_at: datetime
    finished_at: datetime
    duration_s: float
    counts: Counts = Field(default_factory=Counts)
    slos: list[SloResult] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)

    def write(self, suite_dir: Path) -> Path:
        """Write `summary.json` into the suite's folder of a run."""
        suite_dir.mkdir(parents=True, exist_ok=True)
        path = suite_dir / "summary.json"
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Summary:
        """Read and validate a `summary.json`."""
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


def counts_verdict(counts: Counts) -> Verdict:
    """The verdict implied by counts alone: any failure or error fails; nothing run is skipped."""
    if counts.failed or counts.errors:
        return Verdict.FAIL
    if counts.passed == 0:
        return Verdict.SKIPPED
    return Verdict.PASS


def utcnow() -> datetime:
    """Timezone-aware now, the only clock summaries use."""
    return datetime.now(UTC)
