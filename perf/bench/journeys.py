"""The journey-mix rows (`python -m perf.bench --journey-mix`): the perf suite's own shapes.

Each row is one `assay run perf --shape NAME` against a managed default target and the local
stack (`assay stack up`: PostgreSQL, Redis, three gunicorn workers), or a given target URL,
exactly as an SRE would run it; the row's figures are read from the run's
`perf/summary.json` (the gate's verdict, achieved rate, p95 per journey; the step shape's
knee with the rate it achieved). Shapes come from perf/profiles.yaml, or ASSAY_PERF_CONFIG.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.run import new_run_id
from assay.summary import Summary
from assay.target import LEDGERS_ENV, format_ledgers
from infra.local.stack import provisioned_stack
from perf.adapter import GRACE_S
from perf.bench.results import Kind, Record, redact
from perf.bench.targets import KNEE, LOCAL_STACK, MANAGED_DEFAULT, SUSTAINED
from perf.config import SUMMARY, PerfConfig, load_config
from perf.gate import LATENCY

SHAPES = {SUSTAINED: "sustained", KNEE: "step"}
START_S = 300  # the managed target's start (migrate, seed, gateways) and the suite's set-up
NOT_RUN = "not measured in this run (python -m perf.bench --journey-mix runs it)"


def measurement(key: str, config: PerfConfig) -> str:
    """The row's words, from the shape as configured."""
    shape = config.shape(SHAPES[key])
    if key == SUSTAINED:
        stage = shape.plan()[0]
        return f"journey mix, sustained shape ({stage.rps:g} RPS for {stage.duration_s:g} s)"
    step = shape.step
    assert step is not None, "the step shape is a step search"
    return (
        f"journey mix, step shape's knee ({step.start_rps:g} RPS, +{step.increment_rps:g} "
        f"every {step.step_s:g} s)"
    )


def run_shape(
    shape: str,
    runs: Path,
    target_url: str | None,
    timeout_s: float,
    target_env: Mapping[str, str] | None = None,
) -> Path | None:
    """`assay run perf --shape SHAPE` into `runs`; its summary.json (None if it wrote none).

    `target_env` names what the target's URL does not (admin account, gateway ledgers)."""
    run_id = new_run_id()
    command = [
        sys.executable,
        "-m",
        "assay",
        "run",
        "perf",
        "--shape",
        shape,
        "--runs-dir",
        str(runs),
        "--run-id",
        run_id,
        "--no-generate",
    ]
    env = {**os.environ, **(target_env or {})}
    env.pop("ASSAY_RUN_ID", None)
    if target_url:
        command += ["--target-url", target_url]
    else:
        env.pop("ASSAY_TARGET_URL", None)  # the managed default target, whatever the shell says
    # Exit 1 is a failed gate: still a measurement, read from the summary.
    subprocess.run(  # noqa: S603 - our interpreter running the assay command
        command, env=env, capture_output=True, timeout=timeout_s, check=False
    )
    summary = runs / run_id / "perf" / SUMMARY
    return summary if summary.exists() else None


def _journey_p95(summary: Summary) -> dict[str, float | None]:
    return {
        s.scope.split(":", 1)[1]: s.observed
        for s in summary.slos
        if s.id == LATENCY and s.scope and s.scope.startswith("journey:")
    }


def sustained_figures(summary: Summary) -> dict[str, Any]:
    """Verdict, achieved rate, overall and per-journey p95, failures of a sustained run."""
    metrics = summary.metrics
    journeys = _journey_p95(summary)
    observed = [p for p in journeys.values() if p is not None]
    overall = next((s.observed for s in summary.slos if s.id == LATENCY and s.scope is None), None)
    stages = metrics.get("stages") or [{}]
    return {
        "verdict": summary.verdict.value,
        "asked_rps": stages[0].get("rps"),
        "achieved_rps": metrics.get("achieved_rps"),
        "p95_ms": overall,
        "max_journey_p95_ms": max(observed) if observed else None,
        "journey_p95_ms": journeys,
        "requests": metrics.get("requests"),
        "failures": metrics.get("failures"),
    }


def knee_figures(summary: Summary) -> dict[str, Any]:
    """The step search: knee (asked and achieved rate, p95 there), whether it broke, each step."""
    metrics = summary.metrics
    steps: list[dict[str, Any]] = list(metrics.get("steps") or [])
    knee = metrics.get("knee_rps")
    at_knee = next((s for s in reversed(steps) if s.get("rps") == knee), None)
    # No step held (every one broke): nothing ran within the SLOs, so the knee's rate is 0.
    achieved = at_knee.get("achieved_rps") if at_knee else (0.0 if steps else None)
    return {
        "verdict": summary.verdict.value,
        "knee_rps": knee,
        "knee_achieved_rps": achieved,
        "p95_ms": at_knee.get("p95_ms") if at_knee else None,
        "broke": metrics.get("slo_broke"),
        "journey_p95_ms": _journey_p95(summary),
        "steps": steps,
        "failures": metrics.get("failures"),
    }


def record(key: str, summary_path: Path | None, config: PerfConfig, backend: str) -> Record:
    """A journey-mix row from a run's summary.json (a row saying so when there is none)."""
    words = measurement(key, config)
    if summary_path is None:
        return Record(key, words, backend, Kind.JOURNEY_MIX, {}, "the run wrote no summary.json")
    summary = Summary.read(summary_path)
    if key == SUSTAINED:
        return Record(key, words, backend, Kind.JOURNEY_MIX, sustained_figures(summary))
    figures = knee_figures(summary)
    note = "" if figures["broke"] else "no step broke: the knee is the last step run"
    return Record(key, words, backend, Kind.JOURNEY_MIX, figures, note)


def not_measured(config: PerfConfig | None = None) -> list[Record]:
    """The journey-mix rows of a run without --journey-mix: their targets, no figures."""
    chosen = config or load_config()
    return [
        Record(key, measurement(key, chosen), backend, Kind.JOURNEY_MIX, {}, NOT_RUN)
        for backend in (MANAGED_DEFAULT, LOCAL_STACK)
        for key in SHAPES
    ]


def measure(
    runs: Path,
    target_url: str | None = None,
    *,
    target_env: Mapping[str, str] | None = None,
    backend: str | None = None,
) -> list[Record]:
    """Run the sustained and step shapes, one `assay run perf` each; their rows."""
    config = load_config()
    named = backend or (f"target {redact(target_url)}" if target_url else MANAGED_DEFAULT)
    made: list[Record] = []
    for key, shape in SHAPES.items():
        budget = config.shape(shape).duration_s + GRACE_S + START_S
        summary = run_shape(shape, runs, target_url, budget, target_env)
        made.append(record(key, summary, config, named))
    return made


def measure_on_stack(runs: Path) -> list[Record]:
    """The same rows on a local stack provisioned for them and torn down after."""
    with provisioned_stack() as stack:  # `assay stack up`'s workers, as LOCAL_STACK says
        env = {
            "ASSAY_ADMIN_EMAIL": stack.admin["email"],
            "ASSAY_ADMIN_PASSWORD": stack.admin["password"],
            LEDGERS_ENV: format_ledgers(stack.ledgers),
        }
        return measure(runs, stack.service_url, target_env=env, backend=LOCAL_STACK)
