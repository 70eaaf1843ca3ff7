"""Alert rules, their promtool tests and dashboards are generated from the SLO catalog."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.observability import generate, rule_tests

ROOT = generate.ROOT
SERVICE_METRICS = {
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "health_ready",
    "circuit_breaker_state",
    "outbox_pending_events",
    "outbox_oldest_pending_age_seconds",
    "cache_requests_total",
    "db_pool_connections_in_use",
    "db_pool_size",
    "orders_total",
    "payments_total",
}
# Series that are not the service's: recording rules and kube-state-metrics.
OTHER_SERIES = re.compile(r"^(assay:|kube_)")


def _rules() -> list[dict]:
    doc = yaml.safe_load(generate.RULES_FILE.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _alerts() -> dict[str, dict]:
    return {r["alert"]: r for r in _rules() if "alert" in r}


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", expr))
    names |= set(re.findall(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[<>]", expr, re.M))
    return {n for n in names if not OTHER_SERIES.match(n)}


def test_committed_files_match_the_generator() -> None:
    assert generate.stale_files() == [], "run: python -m infra.observability.generate"


def test_every_alert_links_an_existing_runbook() -> None:
    for name, rule in _alerts().items():
        runbook = ROOT / rule["annotations"]["runbook_url"]
        assert runbook.is_file(), f"{name}: missing {runbook}"
        assert f"`{name}`" in runbook.read_text(), f"{runbook.name} does not name {name}"


def test_every_alert_fires_in_some_promtool_scenario() -> None:
    assert rule_tests.fired_alerts() == set(_alerts())


def test_alerts_cover_the_issue_list() -> None:
    names = set(_alerts())
    for expected in (
        "LatencyP95High",
        "ErrorRateHigh",
        "AvailabilityBudgetBurnFast",
        "AvailabilityBudgetBurnSlow",
        "ServiceNotReady",
        "PaymentCircuitBreakerOpen",
        "OutboxLagHigh",
        "CacheHitLow",
        "DbConnectionsSaturated",
    ):
        assert expected in names


@pytest.mark.parametrize("slo_id", ["SLO-AVAILABILITY", "SLO-API-ERROR-RATE"])
def test_burn_rate_alerts_pair_a_long_and_a_short_window(slo_id: str) -> None:
    burns = {
        r["labels"]["burn_rate"]: r["expr"]
        for r in _alerts().values()
        if r["labels"].get("slo") == slo_id
    }
    assert re.search(r"ratio_rate1h > .*\nand\n.*ratio_rate5m > ", burns["14.4"])
    assert re.search(r"ratio_rate6h > .*\nand\n.*ratio_rate30m > ", burns["6"])


def test_thresholds_follow_the_catalog(tmp_path: Path) -> None:
    catalog = yaml.safe_load(generate.CATALOG.read_text())
    for slo in catalog["slos"]:
        if slo["id"] == "SLO-LATENCY-P95":
            slo["objective"] = 420
        if slo["id"] == "SLO-AVAILABILITY":
            slo["objective"] = 99.5
    changed = tmp_path / "slos.yaml"
    changed.write_text(yaml.safe_dump(catalog))
    alerts, _ = generate.slo_alerts(generate.load_slos(changed))
    by_name = {a["alert"]: a for a in alerts}
    assert by_name["LatencyP95High"]["expr"].endswith("> 0.42")
    assert "> 0.072\n" in by_name["AvailabilityBudgetBurnFast"]["expr"]  # 14.4 x 0.5%


def test_rules_and_dashboards_use_only_the_service_metric_names() -> None:
    exprs = [r["expr"] for r in _rules()]
    for board in generate.DASHBOARD_DIR.glob("*.json"):
        exprs += [t["expr"] for p in json.loads(board.read_text())["panels"] for t in p["targets"]]
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used <= SERVICE_METRICS, used - SERVICE_METRICS


def test_dashboards_cover_overview_slo_dependencies_and_chaos() -> None:
    boards = {p.stem: json.loads(p.read_text()) for p in generate.DASHBOARD_DIR.glob("*.json")}
    assert set(boards) == {"service-overview", "slo-error-budget", "dependencies", "chaos-runs"}
    for board in boards.values():
        assert board["uid"].startswith("assay-")
        assert all(panel["targets"] for panel in board["panels"])


def test_promtool_accepts_the_rules(require_tool: Callable[[str], str]) -> None:
    promtool = require_tool("promtool")
    proc = subprocess.run(
        [promtool, "check", "rules", str(generate.RULES_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_rule_tests_fire_each_alert(require_tool: Callable[[str], str]) -> None:
    promtool = require_tool("promtool")
    proc = subprocess.run(
        [promtool, "test", "rules", rule_tests.TEST_FILE.name],
        cwd=rule_tests.TEST_FILE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr
