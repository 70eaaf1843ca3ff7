"""Alert rules, their promtool tests and dashboards are generated from the SLO catalog."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from assay.catalog import load_catalog
from infra.observability import generate, rule_tests
from perf import gate

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
# Series that are not the service's: recording rules, kube-state-metrics, Prometheus' own `up`.
OTHER_SERIES = re.compile(r"^(assay:|kube_|up$)")
BURN_SLOS = ["SLO-AVAILABILITY", "SLO-API-ERROR-RATE", "SLO-CHECKOUT-SUCCESS"]


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
        "ServiceDown",
        "RequestMetricsAbsent",
        "ServiceRestarted",
        "CheckoutSuccessBudgetBurnFast",
        "AvailabilityBudgetBurnTicket",
    ):
        assert expected in names


@pytest.mark.parametrize("slo_id", BURN_SLOS)
def test_burn_rate_alerts_follow_the_three_tiers_of_the_workbook(slo_id: str) -> None:
    burns = {
        r["labels"]["burn_rate"]: r for r in _alerts().values() if r["labels"].get("slo") == slo_id
    }
    assert sorted(burns) == ["1", "14.4", "6"]
    assert re.search(r"ratio_rate1h > .*\nand\n.*ratio_rate5m > ", burns["14.4"]["expr"])
    assert re.search(r"ratio_rate6h > .*\nand\n.*ratio_rate30m > ", burns["6"]["expr"])
    assert re.search(r"ratio_rate3d > .*\nand\n.*ratio_rate6h > ", burns["1"]["expr"])
    severities = {rate: r["labels"]["severity"] for rate, r in burns.items()}
    assert severities == {"14.4": "page", "6": "page", "1": "ticket"}


def test_burn_rate_alerts_wait_for_nothing_but_their_short_window() -> None:
    burns = [r for r in _alerts().values() if "burn_rate" in r["labels"]]
    assert burns
    held = {r["alert"]: r["for"] for r in burns if r.get("for") not in (None, "0s", "0m")}
    assert held == {}, "the short window already holds off a blip"


def test_no_two_slos_page_on_one_signal() -> None:
    pages = [r for r in _alerts().values() if r["labels"]["severity"] == "page"]
    paging_slos: dict[str, set[str]] = {}
    for rule in pages:
        # assay:http_errors:ratio_rate5m and assay:http_errors:ratio_rate1h read one signal.
        for family in re.findall(r"assay:([a-z_0-9]+):", rule["expr"]):
            paging_slos.setdefault(family, set()).add(rule["labels"]["slo"])
    shared = {signal: slos for signal, slos in paging_slos.items() if len(slos) > 1}
    assert shared == {}
    exprs = [" ".join(r["expr"].split()) for r in pages]
    assert len(exprs) == len(set(exprs)), "two paging alerts share one expression"
    # The SLO that keeps its page on the errors of every request is the budget one.
    assert _alerts()["AvailabilityBudgetBurnFast"]["labels"]["severity"] == "page"
    assert _alerts()["ErrorRateHigh"]["labels"]["severity"] == "ticket"


def test_a_total_outage_pages_and_a_restart_opens_a_ticket() -> None:
    by_expr = {" ".join(r["expr"].split()): r for r in _alerts().values()}
    job = 'job="reference-service"'
    down = next(r for e, r in by_expr.items() if e.startswith(f"absent(up{{{job}}}"))
    blind = next(r for e, r in by_expr.items() if "absent_over_time(http_requests_total" in e)
    restart = next(r for e, r in by_expr.items() if "resets(http_requests_total" in e)
    assert down["labels"]["severity"] == blind["labels"]["severity"] == "page"
    assert restart["labels"]["severity"] == "ticket"


def test_checkout_success_is_alerted_on_the_group_the_perf_gate_judges() -> None:
    rules_text = generate.RULES_FILE.read_text()
    assert "SLO-CHECKOUT-SUCCESS: no Prometheus SLI" not in rules_text
    record = next(r for r in _rules() if r.get("record") == "assay:checkout_errors:ratio_rate5m")
    assert f'method="{gate.CHECKOUT_METHOD}",route="{gate.CHECKOUT_PATH}"' in record["expr"]


def test_errors_are_the_statuses_the_catalog_names() -> None:
    errors = load_catalog().errors
    assert errors is not None
    exprs = [r["expr"] for r in _rules()]
    for board in generate.DASHBOARD_DIR.glob("*.json"):
        exprs += [t["expr"] for p in json.loads(board.read_text())["panels"] for t in p["targets"]]
    matchers = {m for e in exprs for m in re.findall(r'status=~?"[^"]*"', e)}
    assert matchers == {errors.promql()}
    # PromQL's =~ is anchored at both ends: the catalog's pattern reads the same in Python.
    assert [code for code in range(100, 600) if errors.counts(code)] == list(range(500, 600))


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
