"""Locust event listeners: test data at start-up, the SLO gate at exit.

The gate is a `quitting` listener on the master (or the single local process): it judges the
run's statistics against the catalog, writes `summary.json` and sets Locust's exit code.
Workers only load data and run users; their statistics reach the master through Locust.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.event import Events
from locust.runners import MasterRunner

from assay.catalog import CatalogError, load_catalog
from perf import summary
from perf.config import OUT_ENV, WORKERS_ENV, load_config, shape_name
from perf.data import DATA_ENV, TestData, from_environment
from perf.gate import check_unjudged, evaluate, fail_with, generator_overloaded, undelivered
from perf.journeys import Plan, Shopper
from perf.metrics import catalog_cache_counts, hit_ratio
from perf.plan import requests_per_iteration
from perf.shapes import ThroughputShape
from perf.stats import SERVER_ERRORS, groups, is_worker

log = logging.getLogger("perf.gate")
_cache_before: dict[str, tuple[float, float] | None] = {}


def on_init(environment: Environment, **_: Any) -> None:
    """Load (or make, through the API) the test data and tell users and shape about it."""
    config = load_config()
    # A shape that names an SLO the gate does not judge fails here, not after the run.
    catalog = load_catalog()
    check_unjudged(config.shape(shape_name()).unjudged, catalog)
    if catalog.errors is None:
        raise CatalogError("slos.yaml has no errors: section: the gate cannot count errors")
    SERVER_ERRORS.install(environment, catalog.errors)
    if isinstance(environment.runner, MasterRunner):
        # The master runs no users; it only needs the pacing for the shape.
        data_file = os.environ.get(DATA_ENV)
        admin = (
            TestData.load(Path(data_file)).admin is not None
            if data_file
            else bool(os.environ.get("ASSAY_ADMIN_EMAIL"))
        )
        ThroughputShape.mean_requests = requests_per_iteration(config, admin_known=admin)
        return
    if not environment.host:
        raise ValueError("no --host: the perf suite needs the target's base URL")
    plan = Plan.build(config, from_environment(environment.host, config, shape_name()))
    plan.processes = max(1, int(os.environ.get(WORKERS_ENV) or 1))
    Shopper.plan = plan
    ThroughputShape.mean_requests = plan.requests_per_iteration()


def on_test_start(environment: Environment, **_: Any) -> None:
    """Read the target's catalog cache counters before the load (master or local process)."""
    if not is_worker(environment) and environment.host:
        _cache_before[environment.host] = catalog_cache_counts(environment.host)


def on_quitting(environment: Environment, **_: Any) -> None:
    """Judge the run against the catalog's SLOs; write summary.json; set the exit code."""
    if is_worker(environment) or environment.runner is None:
        return
    shape = environment.shape_class
    everything = groups(environment.runner.stats, SERVER_ERRORS)
    sent = sum(group.requests for group in everything)
    judged = everything
    metrics: dict[str, Any] = {}
    if isinstance(shape, ThroughputShape):
        metrics = shape.report()
        held = shape.held()
        warm = shape.judged()
        if held is not None:
            judged = held  # a step search is judged up to its knee
        elif warm:
            judged = warm  # a fixed shape's stages, warm-up excluded
            metrics["warm_up_excluded_requests"] = sent - sum(g.requests for g in warm)
    catalog = load_catalog()
    host = environment.host or ""
    ratio = hit_ratio(_cache_before.get(host), catalog_cache_counts(host) if host else None)
    unjudged = shape.config.shape(shape.name).unjudged if isinstance(shape, ThroughputShape) else {}
    gate = evaluate(judged, catalog, cache_hit_ratio=ratio, unjudged=unjudged)
    if isinstance(shape, ThroughputShape):
        for broken_stage in reversed(shape.stage_failures()):
            gate = fail_with(gate, broken_stage)
        gate = undelivered(gate, shape.delivery(sent))
    gate = undelivered(gate, generator_overloaded(environment.runner))
    elapsed = max(1e-9, time.time() - environment.runner.stats.start_time)
    # What the run was, for load requirements (assay.coverage): its shape and achieved rate.
    metrics.setdefault("shape", shape.name if isinstance(shape, ThroughputShape) else "custom")
    metrics["achieved_rps"] = round(sent / elapsed, 1)
    # Everything sent, as the target counts it; the judged figures leave the warm-up out.
    metrics["requests"] = sent
    metrics["failures"] = sum(group.failures for group in everything)
    metrics["judged_requests"] = gate.requests
    result = summary.build(
        gate,
        judged,
        catalog,
        shape=shape.name if isinstance(shape, ThroughputShape) else "custom",
        started_at=environment.runner.stats.start_time,
        metrics=metrics,
    )
    out = Path(os.environ.get(OUT_ENV) or ".")
    out.mkdir(parents=True, exist_ok=True)
    result.write(out)  # summary.json
    log.info("SLO gate: %s (score %s)", gate.verdict.upper(), gate.score)
    for reason in gate.reasons:
        log.warning("SLO gate: %s", reason)
    for note in gate.notes:
        log.info("SLO gate: %s", note)
    environment.process_exit_code = gate.exit_code


def install(events: Events) -> None:
    """Register the listeners (the locustfile calls this once)."""
    events.init.add_listener(on_init)
    events.test_start.add_listener(on_test_start)
    events.quitting.add_listener(on_quitting)
