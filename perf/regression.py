"""Regression against the target's own past: each endpoint group's p95 beside the median of the
last green runs of the same shape against the same target.

The catalog's objectives are absolute (p95 < 300 ms) while a healthy group answers in 3-25 ms,
so a tenfold slowdown would still pass them. Here a group fails when its p95 grows past the
baseline's median by more than ALLOWED_GROWTH (Keptn's relative criterion `<= +10 %`) and by
more than RESOLUTION_MS: the histogram is read to the millisecond and the machine is shared,
so a 3 -> 4 ms move is noise, not a regression. A baseline needs MIN_BASELINE_RUNS earlier
runs; with fewer the check is skipped and says how many it found (skipped is not passed).

"The same target": a remote target's URL; every managed target (the reference service Assay
starts on this machine, on a new port each run) is one target.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.summary import Check, Summary, Verdict
from perf.gate import MIN_LATENCY_SAMPLES

CHECK_ID = "perf::no-regression"
BASELINE_RUNS = 5  # the median is over at most this many earlier runs
MIN_BASELINE_RUNS = 3
ALLOWED_GROWTH = 0.10
RESOLUTION_MS = 5.0
GREEN = {Verdict.PASS, Verdict.WARNING}
MANAGED = "managed"


def target_key(described: Mapping[str, Any] | None) -> str | None:
    """What makes two runs' targets the same (see the module's docstring)."""
    if not described:
        return None
    if described.get("kind") == MANAGED:
        return MANAGED
    url = described.get("url")
    return str(url) if url else None


@dataclass(frozen=True)
class Baseline:
    """The earlier runs compared with, newest first, and each group's p95 in them."""

    runs: list[str] = field(default_factory=list)
    p95_ms: dict[str, list[float]] = field(default_factory=dict)


def _json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a run still being written, or not a run: not part of any baseline
    return loaded if isinstance(loaded, dict) else None


def _earlier(runs_dir: Path, run_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(run id, run.json) of every run before `run_id`, newest first."""
    for path in sorted(runs_dir.glob("*/run.json"), reverse=True):
        earlier = path.parent.name
        if earlier >= run_id:
            continue
        record = _json(path)
        if record is not None:
            yield earlier, record


def baseline(runs_dir: Path, *, run_id: str, target: str, shape: str) -> Baseline:
    """The last BASELINE_RUNS green perf runs of `shape` against `target` before `run_id`."""
    found = Baseline()
    for earlier, record in _earlier(runs_dir, run_id):
        if target_key(record.get("target")) != target:
            continue
        summary = _json(runs_dir / earlier / "perf" / "summary.json")
        if summary is None or summary.get("verdict") not in GREEN:
            continue
        metrics = summary.get("metrics") or {}
        if metrics.get("shape") != shape:
            continue
        found.runs.append(earlier)
        for group in metrics.get("groups") or []:
            if group.get("p95_ms") is not None:
                found.p95_ms.setdefault(group["group"], []).append(float(group["p95_ms"]))
        if len(found.runs) == BASELINE_RUNS:
            break
    return found


@dataclass(frozen=True)
class Comparison:
    """One group's p95 now against its baseline."""

    group: str
    p95_ms: float
    median_ms: float
    limit_ms: float
    runs: int

    @property
    def regressed(self) -> bool:
        """Whether the p95 grew past the limit."""
        return self.p95_ms > self.limit_ms

    def words(self) -> str:
        """E.g. 'POST checkout /orders p95 48 ms, median of 5 earlier runs 12 ms (limit 17 ms)'."""
        return (
            f"{self.group} p95 {self.p95_ms:g} ms, median of {self.runs} earlier runs "
            f"{self.median_ms:g} ms (limit {self.limit_ms:g} ms)"
        )

    def as_json(self) -> dict[str, Any]:
        """As `metrics.regression.groups` records it."""
        return {
            "group": self.group,
            "p95_ms": self.p95_ms,
            "median_ms": self.median_ms,
            "limit_ms": self.limit_ms,
            "runs": self.runs,
            "regressed": self.regressed,
        }


def limit_ms(median_ms: float) -> float:
    """The highest p95 that is no regression from `median_ms`."""
    return round(max(median_ms * (1.0 + ALLOWED_GROWTH), median_ms + RESOLUTION_MS), 3)


def compare(groups: list[Mapping[str, Any]], found: Baseline) -> list[Comparison]:
    """Every group with a p95 of MIN_LATENCY_SAMPLES requests now (the gate's own minimum)
    that was measured in at least MIN_BASELINE_RUNS of the baseline's runs."""
    made = []
    for group in groups:
        past = found.p95_ms.get(group["group"], [])
        sampled = int(group.get("requests") or 0) >= MIN_LATENCY_SAMPLES
        if group.get("p95_ms") is None or not sampled or len(past) < MIN_BASELINE_RUNS:
            continue
        median = statistics.median(past)
        made.append(
            Comparison(group["group"], float(group["p95_ms"]), median, limit_ms(median), len(past))
        )
    return made


def regression_check(found: Baseline, comparisons: list[Comparison]) -> Check:
    """Fail naming every regressed group; skipped, saying why, without a baseline."""
    title = "No endpoint group slower than its recent baseline"
    if len(found.runs) < MIN_BASELINE_RUNS or not comparisons:
        why = (
            f"{len(found.runs)} earlier green runs of this shape against this target; "
            f"a baseline needs {MIN_BASELINE_RUNS}"
            if len(found.runs) < MIN_BASELINE_RUNS
            else "no endpoint group was measured in enough of the earlier runs"
        )
        return Check(id=CHECK_ID, title=title, verdict=Verdict.SKIPPED, message=why)
    regressed = [c for c in comparisons if c.regressed]
    if regressed:
        message = "slower than the baseline: " + "; ".join(c.words() for c in regressed)
        return Check(id=CHECK_ID, title=title, verdict=Verdict.FAIL, message=message)
    message = (
        f"{len(comparisons)} groups within +{ALLOWED_GROWTH * 100:g} % (or {RESOLUTION_MS:g} ms) "
        f"of the median of runs {', '.join(found.runs)}"
    )
    return Check(id=CHECK_ID, title=title, verdict=Verdict.PASS, message=message)


def with_regression(
    summary: Summary, runs_dir: Path, *, run_id: str, target: Mapping[str, Any], shape: str
) -> Summary:
    """`summary` with the regression check and `metrics.regression`."""
    key = target_key(target)
    found = baseline(runs_dir, run_id=run_id, target=key, shape=shape) if key else Baseline()
    comparisons = compare(list(summary.metrics.get("groups") or []), found)
    check = regression_check(found, comparisons)
    figures = {
        "target": key,
        "baseline_runs": found.runs,
        "allowed_growth_pct": round(ALLOWED_GROWTH * 100, 1),
        "resolution_ms": RESOLUTION_MS,
        "groups": [c.as_json() for c in comparisons],
    }
    return summary.with_check(check, {"regression": figures})
