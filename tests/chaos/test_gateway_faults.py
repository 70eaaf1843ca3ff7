"""Gateway fault actions and the ledger probes' refusals, against a real gateway simulator
served over HTTP (as an experiment reaches a remote target's gateways)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from chaoslib.exceptions import ActivityFailed

from assay.target import free_port
from chaos import actions, probes
from chaos.context import parse_gateways, resolve
from infra.local.components import wait_http
from reference_service.payments.simulator import create_gateway_app


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_gateway_app("primary"), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health", None, "gateway simulator")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def remote(gateway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("ASSAY_STACK_FILE", raising=False)
    monkeypatch.setenv("ASSAY_TARGET_URL", "http://127.0.0.1:9")  # the service is not needed
    monkeypatch.setenv("ASSAY_CHAOS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("ASSAY_GATEWAY_LEDGERS", f"primary={gateway}")
    httpx.put(f"{gateway}/_faults", json={}).raise_for_status()
    return gateway


def _faults(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/_faults").json())


def test_set_gateway_faults_merges_knobs_and_clear_resets_them(remote: str) -> None:
    actions.set_gateway_faults("primary", {"post_charge_delay_ms": 800})
    answer = actions.set_gateway_faults("primary", {"lookup_status": 503, "refund_status": 500})
    assert answer["faults"]["post_charge_delay_ms"] == 800  # the first knob stays on
    faults = _faults(remote)
    assert (faults["post_charge_delay_ms"], faults["lookup_status"]) == (800, 503)
    assert faults["refund_status"] == 500

    assert actions.clear_gateway_faults() == {"cleared": ["primary"], "unreachable": []}
    faults = _faults(remote)
    assert (faults["post_charge_delay_ms"], faults["lookup_status"]) == (0, None)
    assert faults["refund_status"] is None
    events = (resolve(None).events_file).read_text()
    assert "gateway_faults_set" in events
    assert "gateway_faults_cleared" in events


def test_a_lookup_fault_reaches_the_gateway(remote: str) -> None:
    actions.set_gateway_faults("primary", {"lookup_status": 503})
    assert httpx.get(f"{remote}/charges/by-key/nothing-here").status_code == 503
    actions.clear_gateway_faults(["primary"])
    assert httpx.get(f"{remote}/charges/by-key/nothing-here").status_code == 404


def test_gateway_fault_actions_refuse_empty_or_unknown_selections(remote: str) -> None:
    with pytest.raises(ActivityFailed, match="empty set of faults"):
        actions.set_gateway_faults("primary", {})
    with pytest.raises(ActivityFailed, match="no gateway ''"):
        actions.set_gateway_faults("", {"lookup_status": 503})
    with pytest.raises(ActivityFailed, match="known: primary"):
        actions.set_gateway_faults("fallback", {"lookup_status": 503})
    with pytest.raises(ActivityFailed, match="no gateway to reset"):
        actions.clear_gateway_faults([])
    with pytest.raises(ActivityFailed, match="refused faults"):
        actions.set_gateway_faults("primary", {"no_such_knob": 1})
    assert _faults(remote)["lookup_status"] is None  # nothing was half-applied


def test_an_unreachable_gateway_is_reported_not_fatal_when_clearing(
    remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ASSAY_GATEWAY_LEDGERS", f"primary={remote},fallback={gone}")
    assert actions.clear_gateway_faults() == {"cleared": ["primary"], "unreachable": ["fallback"]}


def test_ledger_probes_without_gateways_fail_readably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_STACK_FILE", raising=False)
    monkeypatch.delenv("ASSAY_GATEWAY_LEDGERS", raising=False)
    monkeypatch.setenv("ASSAY_TARGET_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ASSAY_CHAOS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("ASSAY_ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ASSAY_ADMIN_PASSWORD", "x")
    with pytest.raises(ActivityFailed, match="ASSAY_GATEWAY_LEDGERS"):
        probes.gateway_ledgers_agree()
    with pytest.raises(ActivityFailed, match="needs the gateways' ledgers"):
        probes.checkouts_capture_once(count=1)
    with pytest.raises(ActivityFailed, match="1-20"):
        probes.checkouts_capture_once(count=0)


def test_gateway_ledgers_parse_strictly() -> None:
    assert parse_gateways("primary=http://a:1/, fallback=https://b:2") == {
        "primary": "http://a:1",
        "fallback": "https://b:2",
    }
    with pytest.raises(ActivityFailed, match="NAME=http"):
        parse_gateways("primary")
    with pytest.raises(ActivityFailed, match="NAME=http"):
        parse_gateways("primary=ftp://a")
