"""The gate's result as the run's `perf/summary.json` (the shape every suite writes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from assay.catalog import Catalog
from assay.summary import Check, Counts, SloResult, Summary, Verdict, utcnow
from perf.config import PERF_DIR
from perf.gate import GateResult, GroupStats, percentile

NAME = "perf"
REQUIREMENTS = PERF_DIR / "requirements.yaml"
_SEVERITY = {
    Verdict.UNJUDGED: 0,
    Verdict.SKIPPED: 0,
    Verdict.PASS: 1,
    Verdict.WARNING: 2,
    Verdict.FAIL: 3,
}
UNCOUNTED = {Verdict.SKIPPED, Verdict.UNJUDGED}


def requirement_map(path: Path = REQUIREMENTS) -> dict[str, dict[str, list[str]]]:
    """`journeys` and `shapes` of requirements.yaml: name -> requirement ids."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {section: dict(raw.get(section) or {}) for section in ("journeys", "shapes")}


def _controls(catalog: Catalog, requirements: list[str]) -> list[str]:
    known = catalog.requirements
    return sorted({c for r in requirements if r in known for c in known[r].controls})


def _worst(results: list[SloResult]) -> Verdict:
    judged = [r.verdict for r in results if r.verdict not in UNCOUNTED]
    return max(judged, key=_SEVERITY.__getitem__) if judged else Verdict.SKIPPED


def _unjudged(gate: GateResult, shape: str, catalog: Catalog) -> tuple[list[Check], set[str]]:
    """A skipped check per SLO the shape left unjudged, holding the requirements that rest on it.

    Those requirements are taken off the other checks: a journey that passed on latency and
    errors says nothing of, say, a cache hit ratio nobody judged (68.8 % against 85 % is
    not a pass), so the requirement stays unjudged, with the measured figure and the reason.
    """
    made: list[Check] = []
    held: set[str] = set()
    for slo_id in dict.fromkeys(r.id for r in gate.slos if r.verdict is Verdict.UNJUDGED):
        requirements = sorted(r.id for r in catalog.requirements.values() if slo_id in r.slos)
        overall = [r for r in gate.slos if r.id == slo_id and r.verdict is Verdict.UNJUDGED]
        figures = ", ".join(
            f"{r.scope or 'overall'} {'n/a' if r.observed is None else f'{r.observed:g}'} "
            f"{r.unit} against {r.objective:g}"
            for r in overall[:3]
        )
        why = next((n for n in gate.notes if n.startswith(f"{slo_id} ")), f"{slo_id} unjudged")
        made.append(
            Check(
                id=f"perf/{shape}::{slo_id}",
                title=f"{slo_id} in the {shape} shape",
                requirements=requirements,
                controls=_controls(catalog, requirements),
                verdict=Verdict.SKIPPED,
                evidence=["perf/stats.csv"],
                message=f"unjudged: measured {figures}; {why}",
            )
        )
        held.update(requirements)
    return made, held


def checks(gate: GateResult, groups: list[GroupStats], shape: str, catalog: Catalog) -> list[Check]:
    """One check for the run as a whole and one per journey, linked to their requirements."""
    links = requirement_map()
    unjudged, held = _unjudged(gate, shape, catalog)
    made = [
        Check(
            id=f"perf/{shape}",
            title=f"{shape} load within the catalog's SLOs",
            requirements=[r for r in links["shapes"].get(shape, []) if r not in held],
            controls=_controls(
                catalog, [r for r in links["shapes"].get(shape, []) if r not in held]
            ),
            verdict=gate.verdict if gate.verdict is not Verdict.WARNING else Verdict.PASS,
            evidence=["perf/stats.csv", "perf/report.html"],
            message="; ".join([*gate.reasons, *gate.notes]) or None,
        )
    ]
    for journey in sorted({g.journey for g in groups}):
        labels = {g.label for g in groups if g.journey == journey}
        scoped = [r for r in gate.slos if r.scope == f"journey:{journey}" or r.scope in labels]
        reasons = [
            text
            for text in gate.reasons
            if f"journey:{journey}:" in text or any(f"for {label}:" in text for label in labels)
        ]
        requirements = [r for r in links["journeys"].get(journey, []) if r not in held]
        verdict = _worst(scoped)
        made.append(
            Check(
                id=f"perf/{shape}::{journey}",
                title=f"{journey} journey",
                requirements=requirements,
                controls=_controls(catalog, requirements),
                verdict=Verdict.PASS if verdict is Verdict.WARNING else verdict,
                evidence=["perf/stats.csv"],
                message="; ".join(reasons) or None,
            )
        )
    return made + unjudged


def group_table(groups: list[GroupStats]) -> list[dict[str, Any]]:
    """Per endpoint group: requests, failures and percentiles (ms)."""
    return [
        {
            "group": g.label,
            "requests": g.requests,
            "failures": g.failures,
            "server_errors": g.server_errors,
            "p50_ms": percentile(g.response_times, 0.5),
            "p95_ms": percentile(g.response_times, 0.95),
            "p99_ms": percentile(g.response_times, 0.99),
        }
        for g in sorted(groups, key=lambda g: g.label)
        if g.requests
    ]


def build(
    gate: GateResult,
    groups: list[GroupStats],
    catalog: Catalog,
    *,
    shape: str,
    started_at: float,
    metrics: dict[str, Any],
) -> Summary:
    """summary.json contents from the gate (the adapter adds artifacts and timings)."""
    made = checks(gate, groups, shape, catalog)
    started = datetime.fromtimestamp(started_at, UTC)
    finished = utcnow()
    return Summary(
        suite=NAME,
        verdict=gate.verdict,
        started_at=started,
        finished_at=finished,
        duration_s=round((finished - started).total_seconds(), 2),
        counts=Counts(
            passed=sum(c.verdict is Verdict.PASS for c in made),
            failed=sum(c.verdict is Verdict.FAIL for c in made),
            skipped=sum(c.verdict is Verdict.SKIPPED for c in made),
            errors=sum(c.verdict is Verdict.ERROR for c in made),
        ),
        slos=gate.slos,
        checks=made,
        notes=gate.reasons,
        metrics={
            "score": gate.score,
            "requests": gate.requests,
            "failures": gate.failures,
            "groups": group_table(groups),
            **metrics,
        },
    )
