"""Latency SLOs in chaos probes: judged by default, only measured when the run shares its
machine (`ASSAY_CHAOS_JUDGE_LATENCY=false`); error rates are judged either way."""

from __future__ import annotations

import pytest

from chaos import traffic

SLOW_AND_FAILING = {"p95_ms": 5000.0, "error_rate_pct": 50.0}


def _held(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> dict[str, bool | None]:
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
