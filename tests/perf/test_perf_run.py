"""Real, short Locust runs against a managed reference service (small RPS, ~10 s each).

Locust runs in subprocesses (it monkey-patches with gevent); this process only prepares the
target, reads the run directory and scrapes the service's own /metrics.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.run import Run
from assay.summary import Summary, Verdict
from assay.target import Target, managed_target
from perf.adapter import MANAGED_TARGET_ENV, run_perf
from perf.config import load_config
from perf.data import prepare
from perf.regression import CHECK_ID as REGRESSION_CHECK
from perf.regression import MIN_BASELINE_RUNS

pytestmark = [pytest.mark.slow, pytest.mark.exclusive, pytest.mark.req("REQ-PERF-001")]

CONFIG = """
user_rate: 1.0
journeys: {browse: 30, search: 12, product: 25, cart: 10, checkout: 10, history: 6,
           cancel: 3, login: 2, admin: 1}
retry_share: 0.1
decline_share: 0.5
data: {users: 6, products: 4, stock: 100000}
shapes:
  smoke: {stages: [{rps: 12, duration_s: 10}]}
ramp_s: 2
"""
# Route templates have braces of their own ("/orders/{order_id}"): match up to the value.
SAMPLE = re.compile(r"^http_requests_total\{(?P<labels>.*)\} (?P<value>[0-9.e+]+)$", re.M)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One managed reference service with the perf suite's settings."""
    logs = tmp_path_factory.mktemp("perf-target")
    with managed_target(log_dir=logs, service_env=MANAGED_TARGET_ENV) as started:
        yield started


@pytest.fixture
def small_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ~10 s smoke shape at 12 RPS with a small data pool."""
    return use_config(CONFIG, tmp_path, monkeypatch)


def use_config(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The perf configuration `text` in force, its smoke shape chosen, one Locust process."""
    config = tmp_path / "profiles.yaml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ASSAY_PERF_CONFIG", str(config))
    monkeypatch.setenv("ASSAY_PERF_SHAPE", "smoke")
    monkeypatch.delenv("ASSAY_PERF_WORKERS", raising=False)
    monkeypatch.delenv("ASSAY_PERF_DATA", raising=False)
    return config


def admin_headers(target: Target) -> dict[str, str]:
    assert target.admin is not None
    body = {"email": target.admin.email, "password": target.admin.password}
    token = httpx.post(f"{target.base_url}/auth/token", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def set_flag(target: Target, name: str, value: object) -> None:
    url = f"{target.base_url}/admin/flags/{name}"
    answer = httpx.put(url, json={"value": value}, headers=admin_headers(target))
    assert answer.status_code == 200, answer.text


def served_requests(target: Target) -> int:
    """Requests the service counted, /metrics and health probes left out."""
    text = httpx.get(f"{target.base_url}/metrics").text
    total = 0.0
    for sample in SAMPLE.finditer(text):
        route = re.search(r'route="([^"]*)"', sample["labels"])
        if route and (route[1] == "/metrics" or route[1].startswith("/health")):
            continue
        total += float(sample["value"])
    return int(total)


def test_smoke_run_passes_the_gate_and_writes_every_output(
    target: Target, small_load: Path, tmp_path: Path
) -> None:
    run = Run.create(tmp_path / "runs")
    summary = run_perf(run, target)
    out = run.directory / "perf"
    assert summary.verdict is Verdict.PASS, summary.notes
    assert summary.metrics["exit_code"] == 0
    assert summary.metrics["requests"] > 60
    assert {s.id for s in summary.slos} >= {"SLO-LATENCY-P95", "SLO-ERROR-RATE"}
    journeys = {c.id.split("::")[1] for c in summary.checks if "::" in c.id}
    assert {"browse", "product", "checkout", "cart"} <= journeys
    checkout = next(c for c in summary.checks if c.id == "perf/smoke::checkout")
    assert "REQ-ORD-001" in checkout.requirements
    # The load's money, reconciled with the managed target's own gateway processes.
    ledger = next(c for c in summary.checks if c.id == "ledger::gateways-agree")
    assert ledger.verdict is Verdict.PASS, ledger.message
    assert summary.metrics["ledger"]["captures"] >= summary.metrics["ledger"]["confirmed_orders"]
    assert summary.metrics["ledger"]["confirmed_orders"] > 0
    for name in ("stats.csv", "stats_history.csv", "report.html", "chart.png"):
        assert f"perf/{name}" in summary.artifacts
        assert (out / name).stat().st_size > 0
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = Summary.read(out / "summary.json")  # the gate's own file, before the adapter
    assert written.verdict is Verdict.PASS
    # URLs with ids are grouped by name=: a product id never shows, its template does. (The
    # order-id groups need a history or cancel journey, which a 10 s run may not draw.)
    names = [line.split(",")[1] for line in (out / "stats.csv").read_text().splitlines()[1:]]
    assert "product /products/{id}" in names
    assert not [n for n in names if re.search(r"/\d+|[0-9a-f]{8}-[0-9a-f]{4}", n)], names


def test_a_deliberately_slowed_service_fails_the_gate_with_a_readable_reason(
    target: Target, small_load: Path, tmp_path: Path
) -> None:
    set_flag(target, "catalog_cache_enabled", False)
    set_flag(target, "db_slow_query_ms", 400)
    try:
        summary = run_perf(Run.create(tmp_path / "runs"), target)
    finally:
        set_flag(target, "db_slow_query_ms", 0)
        set_flag(target, "catalog_cache_enabled", True)
    assert summary.verdict is Verdict.FAIL
    assert summary.metrics["exit_code"] == 1  # the gate set Locust's exit code
    latency = next(s for s in summary.slos if s.id == "SLO-LATENCY-P95" and s.scope is None)
    assert latency.verdict is Verdict.FAIL
    assert latency.observed is not None
    assert latency.observed >= 400
    reason = summary.notes[0]
    assert reason.startswith("SLO-LATENCY-P95 (key SLO) FAIL for ")
    assert re.search(r"request latency p95 \d+ ms, objective < 300 ms$", reason), reason
    overall = next(c for c in summary.checks if c.id == "perf/smoke")
    assert overall.verdict is Verdict.FAIL
    assert overall.message is not None
    assert "objective < 300 ms" in overall.message


def test_two_worker_run_counts_match_the_services_own_counters(
    target: Target, small_load: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = target.admin
    assert admin is not None
    data = prepare(target.base_url, load_config().data, admin.email, admin.password)
    monkeypatch.setenv("ASSAY_PERF_DATA", str(data.dump(tmp_path / "data.json")))
    monkeypatch.setenv("ASSAY_PERF_WORKERS", "2")
    # Without its ledgers: the money check after the load logs in and lists orders, requests
    # the load generator never made, so the count would differ by exactly those.
    unreconciled = dataclasses.replace(target, ledgers={})
    before = served_requests(target)
    summary = run_perf(Run.create(tmp_path / "runs"), unreconciled)
    served = served_requests(target) - before
    assert "ledger" not in summary.metrics
    assert summary.metrics["workers"] == 2
    out = Path(summary.artifacts[0]).parent
    assert out.as_posix() == "perf"
    assert summary.metrics["requests"] > 60
    assert summary.metrics["requests"] == served


CHECKOUT_HEAVY = """
user_rate: 1.0
journeys: {checkout: 8, browse: 2}
retry_share: 0.0
data: {users: 6, products: 4, stock: 100000, orders_per_account_per_minute: 100000}
shapes:
  smoke: {stages: [{rps: 12, duration_s: 10}]}
ramp_s: 2
"""


def test_a_slowdown_inside_the_objective_fails_the_regression_comparison_by_name(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checkouts enough for a p95 the comparison judges (the gate's 20-request minimum).
    use_config(CHECKOUT_HEAVY, tmp_path, monkeypatch)
    runs = tmp_path / "runs"

    def perf_run() -> Summary:
        run = Run.create(runs)
        run.record_target(target)
        return run_perf(run, target)

    for _ in range(MIN_BASELINE_RUNS):
        assert perf_run().verdict in {Verdict.PASS, Verdict.WARNING}
    set_flag(target, "payment_latency_ms", 150)
    try:
        slowed = perf_run()
    finally:
        set_flag(target, "payment_latency_ms", 0)
    # Checkout's p95 stays under the catalog's 300 ms: only the comparison can see it. (Other
    # groups may be named too on a busy machine: which is noise is not this test's to judge.)
    checkout = next(
        s for s in slowed.slos if s.id == "SLO-LATENCY-P95" and s.scope == "journey:checkout"
    )
    assert checkout.observed is not None
    assert checkout.observed < 300
    regression = next(c for c in slowed.checks if c.id == REGRESSION_CHECK)
    assert regression.verdict is Verdict.FAIL
    assert regression.message is not None
    assert "POST checkout /orders p95" in regression.message
    assert slowed.verdict is Verdict.FAIL
    assert len(slowed.metrics["regression"]["baseline_runs"]) == MIN_BASELINE_RUNS
