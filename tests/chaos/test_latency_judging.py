"""Latency SLOs in chaos probes: judged by default, only measured when the run shares its
machine (`ASSAY_CHAOS_JUDGE_LATENCY=false`, or `assay run` runs chaos beside other suites);
error rates are judged either way."""

from __future__ import annotations

import pytest

from assay.suites import BESIDE_ENV
from chaos import traffic

SLOW_AND_FAILING = {"p95_ms": 5000.0, "error_rate_pct": 50.0}


def _held(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> dict[str, bool | None]:
    monkeypatch.delenv(BESIDE_ENV, raising=False)
    if setting is None:
        monkeypatch.delenv(traffic.JUDGE_LATENCY_ENV, raising=False)
    else:
        monkeypatch.setenv(traffic.JUDGE_LATENCY_ENV, setting)
    return {s["id"]: s["held"] for s in traffic.judge_slos(SLOW_AND_FAILING)}


@pytest.mark.req("REQ-RES-001")
def test_latency_is_judged_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _held(monkeypatch, None) == {traffic.LATENCY_SLO: False, traffic.ERROR_SLO: False}
    assert _held(monkeypatch, "false") == {traffic.LATENCY_SLO: None, traffic.ERROR_SLO: False}
    assert _held(monkeypatch, "true")[traffic.LATENCY_SLO] is False


@pytest.mark.req("REQ-RES-001")
def test_beside_other_suites_latency_is_measured_and_the_reason_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(traffic.JUDGE_LATENCY_ENV, raising=False)
    monkeypatch.setenv(BESIDE_ENV, "acceptance, contract")
    held = {s["id"]: s["held"] for s in traffic.judge_slos(SLOW_AND_FAILING)}
    assert held == {traffic.LATENCY_SLO: None, traffic.ERROR_SLO: False}
    assert traffic.latency_unjudged_because() == "ran beside acceptance, contract on this machine"
    monkeypatch.setenv(traffic.JUDGE_LATENCY_ENV, "false")
    assert traffic.latency_unjudged_because() == f"{traffic.JUDGE_LATENCY_ENV}=false"


@pytest.mark.req("REQ-RES-001")
def test_one_error_in_a_burst_too_small_to_resolve_the_objective_decides_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(traffic.JUDGE_LATENCY_ENV, raising=False)
    monkeypatch.delenv(BESIDE_ENV, raising=False)
    # A burst sized by min_requests() lets one error meet the 1 % objective.
    assert traffic.min_requests() == 101

    def error_held(requests: int, failures: int) -> bool | None:
        rate = 100.0 * failures / requests
        measured = {"requests": requests, "failures": failures, "p95_ms": 20.0}
        judged = traffic.judge_slos({**measured, "error_rate_pct": rate})
        return {s["id"]: s["held"] for s in judged}[traffic.ERROR_SLO]

    assert error_held(75, 1) is None  # 1.3 %, but one request in 75 proves nothing
    assert error_held(75, 2) is False
    assert error_held(75, 0) is True
    assert error_held(101, 1) is True  # 0.99 %
    assert error_held(101, 2) is False
