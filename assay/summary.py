"""The one `summary.json` shape every suite writes into its run subfolder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIN_JUDGED_SHARE_ENV = "ASSAY_MIN_JUDGED_SHARE"
DEFAULT_MIN_JUDGED_SHARE = 0.8


class Verdict(StrEnum):
    """A suite's, check's or SLO's outcome."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARNING = "warning"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"
    UNJUDGED = "unjudged"  # measured, but this run cannot judge it (e.g. an SLO its shape leaves)


class Counts(BaseModel):
    """How many checks ended each way."""

    model_config = ConfigDict(extra="forbid")

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    judged: int = 0  # checks with an outcome (passed + failed); derived, never read as given

    @model_validator(mode="after")
    def _derive(self) -> Counts:
        self.judged = self.passed + self.failed
        return self

    @property
    def total(self) -> int:
        """Every check the suite ran or tried to."""
        return self.passed + self.failed + self.skipped + self.errors


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


class WaiverUse(BaseModel):
    """A catalog waiver a suite applied: a check it could not judge, for a named, expected cause."""

    model_config = ConfigDict(extra="forbid")

    check: str
    condition: str  # the named condition, e.g. vulnerability-database-unreachable
    reason: str
    owner: str
    approver: str
    ticket: str
    expires: date


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
    waivers: list[WaiverUse] = Field(default_factory=list)
    # Share of the checks that could be judged (waived ones aside) that were; None: no checks.
    judged_share: float | None = None

    @model_validator(mode="after")
    def _share(self) -> Summary:
        waived = {w.check for w in self.waivers}
        waived_skips = sum(c.verdict is Verdict.SKIPPED and c.id in waived for c in self.checks)
        judgeable = self.counts.total - waived_skips
        self.judged_share = round(self.counts.judged / judgeable, 3) if judgeable > 0 else None
        return self

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

    def with_check(self, check: Check, metrics: Mapping[str, Any] | None = None) -> Summary:
        """This summary with `check` added and counted, `metrics` merged in, and failed if the
        check failed or erred (a skipped check is counted as skipped and fails nothing)."""
        counts = self.counts.model_copy()
        field_name = {
            Verdict.PASS: "passed",
            Verdict.FAIL: "failed",
            Verdict.SKIPPED: "skipped",
        }.get(check.verdict, "errors")
        setattr(counts, field_name, getattr(counts, field_name) + 1)
        verdict = self.verdict
        fails = check.verdict not in {Verdict.PASS, Verdict.SKIPPED}
        if fails and verdict in {Verdict.PASS, Verdict.WARNING, Verdict.SKIPPED}:
            verdict = Verdict.FAIL
        # Validated anew, so the derived figures (judged counts and share) follow the new check.
        return Summary.model_validate(
            {
                **self.model_dump(),
                "checks": [*self.model_dump()["checks"], check.model_dump()],
                "counts": Counts(
                    passed=counts.passed,
                    failed=counts.failed,
                    skipped=counts.skipped,
                    errors=counts.errors,
                ).model_dump(),
                "verdict": verdict,
                "metrics": {**self.metrics, **(metrics or {})},
            }
        )


def counts_verdict(counts: Counts) -> Verdict:
    """The verdict implied by counts alone: any failure or error fails; nothing run is skipped."""
    if counts.failed or counts.errors:
        return Verdict.FAIL
    if counts.passed == 0:
        return Verdict.SKIPPED
    return Verdict.PASS


def min_judged_share(environ: Mapping[str, str] | None = None) -> float:
    """`ASSAY_MIN_JUDGED_SHARE` (0 to 1), else 0.8; ValueError names a bad value."""
    env = os.environ if environ is None else environ
    raw = env.get(MIN_JUDGED_SHARE_ENV)
    if not raw:
        return DEFAULT_MIN_JUDGED_SHARE
    try:
        share = float(raw)
    except ValueError as exc:
        raise ValueError(
            f"{MIN_JUDGED_SHARE_ENV} must be a number from 0 to 1, not {raw!r}"
        ) from exc
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{MIN_JUDGED_SHARE_ENV} must be from 0 to 1, not {raw!r}")
    return share


def require_judged(summary: Summary, min_share: float) -> Summary:
    """A suite that judged nothing, or less than `min_share` of its checks, is not green.

    Checks deselected on purpose (a tag or `-k` filter) never ran and do not count; skipped
    ones do, since skipped is not evidence. Such a suite's verdict becomes `error` (the suite
    could not judge the target), with the share in its notes; fail and error stay as they are.
    """
    if summary.verdict in {Verdict.FAIL, Verdict.ERROR}:
        return summary
    counts, share = summary.counts, summary.judged_share
    if share is None and summary.verdict is not Verdict.SKIPPED:
        return summary  # a suite judged by something other than checks (none ran, none skipped)
    if share is not None and share >= min_share:
        return summary
    judged = f"judged {counts.judged} of {counts.total} checks" if counts.total else "ran no check"
    percent = f" ({100 * share:.0f} %)" if share is not None else ""
    note = (
        f"not green: {judged}{percent}, below the {100 * min_share:.0f} % a green run needs "
        f"({MIN_JUDGED_SHARE_ENV}); deselect what cannot run here on purpose instead"
    )
    return summary.model_copy(update={"verdict": Verdict.ERROR, "notes": [note, *summary.notes]})


def utcnow() -> datetime:
    """Timezone-aware now, the only clock summaries use."""
    return datetime.now(UTC)
