"""Reading a Chaos Toolkit journal into one experiment's result and resilience score.

Every probe of ours answers `{"held": bool | null, "reason": ...}`. Probes of the steady-state
hypothesis are judged by Chaos Toolkit (tolerance on `$.held`); probes of the method report
what held while the fault was on (Litmus' "on chaos" probes), and this module counts them.
The score, as Litmus' resilience score: the share of judged probes that held, in percent,
except that a broken data invariant (an acknowledged order lost, stock oversold, a second
capture) scores the experiment 0: no share of other probes holding makes up for lost data.
The suite's is the average, weighted by each one's `weight` extension, over the experiments
whose method ran; one stopped before its fault (a steady state that did not hold first) is
reported, but says nothing about resilience and so is not scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INVARIANT_FUNCS = {
    "stock_never_negative",
    "stock_conserved",
    "acknowledged_orders_exist",
    "one_capture_per_order",
    "no_confirmed_without_capture",
    "hot_product_not_oversold",
    "gateway_ledgers_agree",
    "checkouts_capture_once",
}
DEFAULT_WEIGHT = 10


@dataclass(frozen=True)
class ProbeResult:
    """One probe run: where (before, method, after, rollback), whether it held, and why not."""

    phase: str
    name: str
    func: str
    held: bool | None  # None: measured only, or not run
    reason: str


@dataclass
class ExperimentResult:
    """What one journal says, reduced to verdict inputs."""

    title: str
    status: str
    deviated: bool
    before: bool | None
    after: bool | None
    probes: list[ProbeResult] = field(default_factory=list)
    failed_activities: list[str] = field(default_factory=list)
    weight: float = DEFAULT_WEIGHT
    duration_s: float = 0.0
    tags: list[str] = field(default_factory=list)
    method_ran: bool = False  # the journal records at least one activity of the method

    @property
    def judged(self) -> list[ProbeResult]:
        """Probes with a verdict."""
        return [p for p in self.probes if p.held is not None]

    @property
    def invariant_broken(self) -> bool:
        """Whether any data invariant probe did not hold, wherever it ran."""
        return any(probe.held is False for probe in self.probes if probe.func in INVARIANT_FUNCS)

    @property
    def score(self) -> float:
        """Share of judged probes that held, in percent (0 when none was judged or data broke)."""
        judged = self.judged
        if not judged or self.invariant_broken:
            return 0.0
        return round(100.0 * sum(bool(p.held) for p in judged) / len(judged), 1)

    @property
    def passed(self) -> bool:
        """Hypothesis held before and after, every method probe held, nothing failed."""
        return (
            self.status == "completed"
            and not self.deviated
            and self.before is True
            and self.after is True
            and not self.failed_activities
            and not self.invariant_broken
            and all(p.held is not False for p in self.probes)
        )

    def reasons(self) -> list[str]:
        """Readable reasons, first the most telling."""
        found = [f"{a}" for a in self.failed_activities]
        found += [
            f"{p.phase}: {p.name}: {p.reason or 'did not hold'}"
            for p in self.probes
            if p.held is False
        ]
        if self.status not in {"completed"} and not found:
            found.append(f"experiment ended {self.status}")
        return found

    def invariants(self) -> dict[str, bool | None]:
        """The invariant probes' results: held only if they held everywhere they ran."""
        results: dict[str, bool | None] = {}
        for probe in self.probes:
            if probe.func in INVARIANT_FUNCS and probe.held is not None:
                results[probe.func] = results.get(probe.func, True) and probe.held
        return results

    def summary(self) -> dict[str, Any]:
        """The experiment's entry in chaos/summary.json's metrics."""
        return {
            "title": self.title,
            "status": self.status,
            "deviated": self.deviated,
            "hypothesis_before": self.before,
            "hypothesis_after": self.after,
            "invariants": self.invariants(),
            "resilience_score": self.score,
            "invariant_broken": self.invariant_broken,
            "method_ran": self.method_ran,
            "weight": self.weight,
            "probes_held": sum(bool(p.held) for p in self.judged),
            "probes_judged": len(self.judged),
            "passed": self.passed,
            "reasons": self.reasons(),
        }


def _probe(phase: str, run: dict[str, Any]) -> ProbeResult:
    activity = run.get("activity", {})
    output = run.get("output")
    name = str(activity.get("name", "?"))
    func = str(activity.get("provider", {}).get("func", ""))
    if run.get("status") == "failed":
        lines = run.get("exception") or ["failed"]
        return ProbeResult(phase, name, func, False, str(lines[-1]).strip())
    if isinstance(output, dict) and "held" in output:
        held = output["held"]
        return ProbeResult(phase, name, func, held, str(output.get("reason") or ""))
    if phase in {"before", "after"}:  # a foreign probe judged by its tolerance
        return ProbeResult(phase, name, func, bool(run.get("tolerance_met")), "")
    return ProbeResult(phase, name, func, None, "")


def read_journal(path: Path) -> ExperimentResult:
    """Parse a journal written by `chaos run --journal-path`."""
    journal = json.loads(path.read_text(encoding="utf-8"))
    experiment = journal.get("experiment", {})
    extensions: list[dict[str, Any]] = experiment.get("extensions", [])
    ext: dict[str, Any] = next((e for e in extensions if e.get("name") == "assay"), {})
    states = journal.get("steady_states") or {}
    result = ExperimentResult(
        title=str(experiment.get("title", path.stem)),
        status=str(journal.get("status")),
        deviated=bool(journal.get("deviated")),
        before=(states.get("before") or {}).get("steady_state_met"),
        after=(states.get("after") or {}).get("steady_state_met"),
        weight=float(ext.get("weight", DEFAULT_WEIGHT)),
        duration_s=float(journal.get("duration") or 0.0),
        tags=[str(t) for t in experiment.get("tags", [])],
        method_ran=bool(journal.get("run")),
    )
    for phase in ("before", "after"):
        for run in (states.get(phase) or {}).get("probes", []):
            result.probes.append(_probe(phase, run))
    for phase, runs in (
        ("method", journal.get("run", [])),
        ("rollback", journal.get("rollbacks", [])),
    ):
        for run in runs:
            activity = run.get("activity", {})
            if activity.get("type") == "probe":
                result.probes.append(_probe(phase, run))
            elif run.get("status") == "failed":
                lines = run.get("exception") or ["failed"]
                result.failed_activities.append(
                    f"{phase}: action {activity.get('name')} failed: {str(lines[-1]).strip()}"
                )
    return result


def suite_score(results: list[ExperimentResult]) -> float | None:
    """Weighted average of the scores of experiments whose method ran (None: none ran)."""
    scored = [r for r in results if r.method_ran]
    total = sum(r.weight for r in scored)
    if not total:
        return None
    return round(sum(r.score * r.weight for r in scored) / total, 1)
