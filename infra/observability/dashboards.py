"""Grafana dashboards (JSON model) built from the SLO catalog's thresholds."""

from __future__ import annotations

from typing import Any

SEL = 'job="reference-service"'
API = f'{SEL},route!~"/health.*|/metrics"'
CHECKOUT = f'{SEL},method="POST",route="/orders"'
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
Panel = dict[str, Any]


def _slo(slos: list[dict[str, Any]], slo_id: str) -> dict[str, Any]:
    return next(s for s in slos if s["id"] == slo_id)


def _thresholds(*steps: tuple[str, float | None]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def _panel(
    title: str,
    targets: list[tuple[str, str]],
    unit: str,
    kind: str = "timeseries",
    thresholds: dict[str, Any] | None = None,
    description: str = "",
) -> Panel:
    defaults: dict[str, Any] = {"unit": unit}
    if thresholds:
        defaults["thresholds"] = thresholds
        if kind == "timeseries":
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _dashboard(uid: str, title: str, tags: list[str], panels: list[Panel]) -> dict[str, Any]:
    # Two panels a row, 8 units high: stable positions keep the JSON diff-friendly.
    for i, panel in enumerate(panels):
        panel["id"] = i + 1
        panel["gridPos"] = {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)}
    return {
        "uid": uid,
        "title": title,
        "tags": ["assay", *tags],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "annotations": {
            "list": [
                {
                    "name": "Chaos experiments",
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "iconColor": "purple",
                    "target": {"type": "tags", "tags": ["chaos"], "limit": 100},
                }
            ]
        },
        "panels": panels,
    }


def _error_panel(slos: list[dict[str, Any]]) -> Panel:
    err = _slo(slos, "SLO-ERROR-RATE")
    return _panel(
        "Error ratio (5xx)",
        [("assay:http_errors:ratio_rate5m", "5xx")],
        "percentunit",
        thresholds=_thresholds(
            ("green", None), ("orange", err["warning"] / 100), ("red", err["objective"] / 100)
        ),
        description=f"{err['id']}: objective < {err['objective']}% over {err['window']}",
    )


def _latency_panel(slos: list[dict[str, Any]]) -> Panel:
    lat = _slo(slos, "SLO-LATENCY-P95")
    return _panel(
        "Latency p95 by route",
        [
            (
                "histogram_quantile(0.95, sum by (le, route) "
                f"(rate(http_request_duration_seconds_bucket{{{API}}}[5m])))",
                "{{route}}",
            )
        ],
        "s",
        thresholds=_thresholds(
            ("green", None), ("orange", lat["warning"] / 1000), ("red", lat["objective"] / 1000)
        ),
        description=f"{lat['id']}: p95 < {lat['objective']} ms",
    )


def _cache_panel(slos: list[dict[str, Any]]) -> Panel:
    cache = _slo(slos, "SLO-CACHE-HIT")
    return _panel(
        "Cache hit ratio",
        [
            (
                f'sum by (cache) (rate(cache_requests_total{{{SEL},result="hit"}}[15m])) / '
                f"sum by (cache) (rate(cache_requests_total{{{SEL}}}[15m]))",
                "{{cache}}",
            )
        ],
        "percentunit",
        thresholds=_thresholds(
            ("red", None), ("orange", cache["objective"] / 100), ("green", cache["warning"] / 100)
        ),
        description=f"{cache['id']}: > {cache['objective']}%",
    )


def _ready_panel() -> Panel:
    return _panel(
        "Ready instances",
        [(f"sum(health_ready{{{SEL}}})", "ready"), (f"count(health_ready{{{SEL}}})", "total")],
        "short",
    )


def _breaker_panel() -> Panel:
    return _panel(
        "Circuit breaker state (0 closed, 1 half-open, 2 open)",
        [(f"max by (gateway) (circuit_breaker_state{{{SEL}}})", "{{gateway}}")],
        "short",
        thresholds=_thresholds(("green", None), ("orange", 1), ("red", 2)),
    )


def overview(slos: list[dict[str, Any]]) -> dict[str, Any]:
    """Golden signals: traffic, errors, latency, saturation, business throughput."""
    return _dashboard(
        "assay-overview",
        "Assay / Service overview",
        ["overview"],
        [
            _panel(
                "Requests per second by route",
                [(f"sum by (route) (rate(http_requests_total{{{SEL}}}[5m]))", "{{route}}")],
                "reqps",
            ),
            _error_panel(slos),
            _latency_panel(slos),
            _ready_panel(),
            _panel(
                "Orders by outcome",
                [(f"sum by (outcome) (rate(orders_total{{{SEL}}}[5m]))", "{{outcome}}")],
                "ops",
            ),
            _panel(
                "Payments by provider and outcome",
                [
                    (
                        f"sum by (provider, outcome) (rate(payments_total{{{SEL}}}[5m]))",
                        "{{provider}} {{outcome}}",
                    )
                ],
                "ops",
            ),
        ],
    )


def _budget_panels(slo: dict[str, Any], family: str, sel: str, errors: str) -> list[Panel]:
    objective = slo["objective"] / 100
    budget = objective if slo["sli"] == "error_rate" else 1 - objective
    series = f"assay:{family}:ratio_rate"
    # The recording rules stop at 3d; the 30-day ratio is computed from raw series.
    ratio_30d = (
        f"sum(rate(http_requests_total{{{sel},{errors}}}[30d])) / "
        f"sum(rate(http_requests_total{{{sel}}}[30d]))"
    )
    return [
        _panel(
            f"{slo['title']}: error budget remaining ({slo['window']})",
            [(f"1 - ({ratio_30d}) / {budget:.6g}", "remaining")],
            "percentunit",
            kind="stat",
            thresholds=_thresholds(("red", None), ("orange", 0.25), ("green", 0.5)),
            description=f"{slo['id']}: budget {budget * 100:.3g}% of requests",
        ),
        _panel(
            f"{slo['title']}: burn rate",
            [
                (f"{series}1h / {budget:.6g}", "1h"),
                (f"{series}6h / {budget:.6g}", "6h"),
                (f"{series}3d / {budget:.6g}", "3d"),
            ],
            "short",
            thresholds=_thresholds(("green", None), ("yellow", 1), ("orange", 6), ("red", 14.4)),
            description="Pages at 14.4x (1h and 5m) or 6x (6h and 30m); ticket at 1x (3d and 6h)",
        ),
    ]


def slo_budget(slos: list[dict[str, Any]], errors: str) -> dict[str, Any]:
    """Error budgets and burn rates for the 30-day SLOs, plus the short-window SLOs."""
    panels: list[Panel] = []
    for slo_id, family, sel in (
        ("SLO-AVAILABILITY", "http_errors", SEL),
        ("SLO-API-ERROR-RATE", "api_errors", API),
        ("SLO-CHECKOUT-SUCCESS", "checkout_errors", CHECKOUT),
    ):
        panels += _budget_panels(_slo(slos, slo_id), family, sel, errors)
    panels += [_latency_panel(slos), _cache_panel(slos)]
    return _dashboard("assay-slo", "Assay / SLOs and error budget", ["slo"], panels)


def dependencies(slos: list[dict[str, Any]]) -> dict[str, Any]:
    """Payment gateways, database pool, outbox and cache."""
    return _dashboard(
        "assay-dependencies",
        "Assay / Dependencies",
        ["dependencies"],
        [
            _breaker_panel(),
            _panel(
                "Payment calls by provider, kind and outcome",
                [
                    (
                        f"sum by (provider, kind, outcome) (rate(payments_total{{{SEL}}}[5m]))",
                        "{{provider}} {{kind}} {{outcome}}",
                    )
                ],
                "ops",
            ),
            _panel(
                "Database pool in use / size",
                [
                    (
                        f"max by (instance) (db_pool_connections_in_use{{{SEL}}} "
                        f"/ db_pool_size{{{SEL}}})",
                        "{{instance}}",
                    )
                ],
                "percentunit",
                thresholds=_thresholds(("green", None), ("red", 0.8)),
            ),
            _panel(
                "Outbox: pending events and oldest age",
                [
                    (f"sum(outbox_pending_events{{{SEL}}})", "pending"),
                    (f"max(outbox_oldest_pending_age_seconds{{{SEL}}})", "oldest age (s)"),
                ],
                "short",
            ),
            _cache_panel(slos),
            _ready_panel(),
        ],
    )


def chaos_runs(slos: list[dict[str, Any]]) -> dict[str, Any]:
    """What a chaos experiment moves: errors, latency, readiness, breakers, restarts."""
    return _dashboard(
        "assay-chaos",
        "Assay / Chaos runs",
        ["chaos"],
        [
            _error_panel(slos),
            _latency_panel(slos),
            _ready_panel(),
            _breaker_panel(),
            _panel(
                "Pod restarts (namespace assay)",
                [
                    (
                        "sum by (pod) (increase(kube_pod_container_status_restarts_total"
                        '{namespace="assay"}[5m]))',
                        "{{pod}}",
                    )
                ],
                "short",
                description="From kube-state-metrics; empty on the local stack",
            ),
            _panel(
                "Orders by outcome",
                [(f"sum by (outcome) (rate(orders_total{{{SEL}}}[1m]))", "{{outcome}}")],
                "ops",
            ),
        ],
    )


def build(slos: list[dict[str, Any]], errors: str) -> dict[str, dict[str, Any]]:
    """Every dashboard by file stem; `errors` is the label matcher of an error answer."""
    return {
        "service-overview": overview(slos),
        "slo-error-budget": slo_budget(slos, errors),
        "dependencies": dependencies(slos),
        "chaos-runs": chaos_runs(slos),
    }
