"""The gateway simulator: its ledger (GET /ledger) and the fault knobs for ambiguous windows."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from reference_service.payments.simulator import create_gateway_app

pytestmark = pytest.mark.req("REQ-PAY-003")

STALLED_MS = 5000  # far past the 0.2 s the tests wait before giving up on an answer
GIVE_UP_S = 0.2
Scenario = Callable[[httpx.AsyncClient], Awaitable[Any]]


@asynccontextmanager
async def _gateway(name: str = "primary") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_gateway_app(name))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as http:
        yield http


def _run(scenario: Scenario) -> Any:
    async def run() -> Any:
        async with _gateway() as http:
            return await scenario(http)

    return asyncio.run(run())


async def _charge(
    http: httpx.AsyncClient, key: str, amount: int = 1500, token: str = "tok_visa"
) -> httpx.Response:
    body = {"amount": amount, "currency": "EUR", "token": token}
    return await http.post("/charges", json=body, headers={"Idempotency-Key": key})


async def _refund(
    http: httpx.AsyncClient, key: str, charge_id: str, amount: int = 1500
) -> httpx.Response:
    body = {"charge_id": charge_id, "amount": amount}
    return await http.post("/refunds", json=body, headers={"Idempotency-Key": key})


async def _faults(http: httpx.AsyncClient, **knobs: Any) -> None:
    response = await http.put("/_faults", json=knobs)
    assert response.status_code == 200, response.text


async def _ledger(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/ledger")
    assert response.status_code == 200
    return dict(response.json())


async def _gives_up(request: Awaitable[httpx.Response]) -> bool:
    """Whether the answer was still stalled when the caller gave up."""
    try:
        async with asyncio.timeout(GIVE_UP_S):
            await request
    except TimeoutError:
        return True
    return False


def test_the_ledger_lists_every_charge_and_refund_in_order() -> None:
    async def scenario(http: httpx.AsyncClient) -> dict[str, Any]:
        paid = (await _charge(http, "k-paid", 1500)).json()
        await _charge(http, "k-paid", 1500)  # a replay records nothing new
        await _charge(http, "k-declined", 700, token="tok_decline")
        assert (await _refund(http, "r-1", paid["id"], 500)).status_code == 201
        assert (await _refund(http, "r-unknown", "ch_nope", 100)).status_code == 404
        await _faults(http, down=True)  # the ledger answers whatever the faults
        return await _ledger(http)

    ledger = _run(scenario)
    assert ledger["gateway"] == "primary"
    charges, refunds = ledger["charges"], ledger["refunds"]
    assert [(c["key"], c["amount"], c["currency"], c["status"]) for c in charges] == [
        ("k-paid", 1500, "EUR", "succeeded"),
        ("k-declined", 700, "EUR", "failed"),
    ]
    assert [(r["key"], r["charge_id"], r["amount"], r["status"]) for r in refunds] == [
        ("r-1", charges[0]["id"], 500, "succeeded"),
        ("r-unknown", "ch_nope", 100, "failed"),
    ]
    times = [datetime.fromisoformat(e["at"]) for e in [*charges, *refunds]]
    assert all(at.utcoffset() == timedelta(0) for at in times)  # UTC
    assert times == sorted(times)
    assert all(r["id"].startswith("re_") for r in refunds)


def test_charge_answer_status_records_the_charge_then_fails_the_answer() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[int, dict[str, Any], httpx.Response]:
        await _faults(http, charge_answer_status=502)
        failed = await _charge(http, "k-lost")
        ledger = await _ledger(http)
        await _faults(http)
        return failed.status_code, ledger, await _charge(http, "k-lost")

    status, ledger, replay = _run(scenario)
    assert status == 502
    assert [(c["key"], c["status"]) for c in ledger["charges"]] == [("k-lost", "succeeded")]
    assert replay.status_code == 201  # the same key replays the charge that was taken
    assert replay.json()["id"] == ledger["charges"][0]["id"]


def test_a_charge_cannot_be_recorded_then_answered_as_refused() -> None:
    # 503 is the gateway's "refused before processing" (the service may try the fallback),
    # so a knob that records a charge and answers 503 would fake a double charge.
    async def scenario(http: httpx.AsyncClient) -> tuple[httpx.Response, dict[str, Any]]:
        refused = await http.put("/_faults", json={"charge_answer_status": 503})
        return refused, (await http.get("/_faults")).json()

    refused, faults = _run(scenario)
    assert refused.status_code == 422
    assert "503" in refused.text
    assert faults["charge_answer_status"] is None


def test_post_charge_delay_records_then_stalls_the_answer() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[bool, dict[str, Any]]:
        await _faults(http, post_charge_delay_ms=STALLED_MS)
        return await _gives_up(_charge(http, "k-slow")), await _ledger(http)

    gave_up, ledger = _run(scenario)
    assert gave_up
    assert [c["key"] for c in ledger["charges"]] == ["k-slow"]


def test_lookup_status_fails_the_lookup_of_a_recorded_charge() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[int, int, int]:
        await _charge(http, "k-1")
        await _faults(http, lookup_status=503)
        failed = (await http.get("/charges/by-key/k-1")).status_code
        await _faults(http)
        found = (await http.get("/charges/by-key/k-1")).status_code
        missing = (await http.get("/charges/by-key/k-2")).status_code
        return failed, found, missing

    assert _run(scenario) == (503, 200, 404)


def test_lookup_delay_stalls_the_lookup() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[bool, int]:
        await _charge(http, "k-1")
        await _faults(http, lookup_delay_ms=STALLED_MS)
        gave_up = await _gives_up(http.get("/charges/by-key/k-1"))
        await _faults(http)
        return gave_up, (await http.get("/charges/by-key/k-1")).status_code

    assert _run(scenario) == (True, 200)


def test_refund_status_refuses_the_refund_without_recording_it() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[int, list[Any], int, list[Any]]:
        charge_id = (await _charge(http, "k-1")).json()["id"]
        await _faults(http, refund_status=500)
        refused = (await _refund(http, "r-1", charge_id)).status_code
        before = (await _ledger(http))["refunds"]
        await _faults(http)
        retried = (await _refund(http, "r-1", charge_id)).status_code
        return refused, before, retried, (await _ledger(http))["refunds"]

    refused, before, retried, after = _run(scenario)
    assert (refused, before) == (500, [])
    assert retried == 201
    assert [(r["key"], r["status"]) for r in after] == [("r-1", "succeeded")]


def test_refund_delay_records_the_refund_then_stalls_the_answer() -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[bool, list[Any]]:
        charge_id = (await _charge(http, "k-1")).json()["id"]
        await _faults(http, refund_delay_ms=STALLED_MS)
        gave_up = await _gives_up(_refund(http, "r-1", charge_id))
        return gave_up, (await _ledger(http))["refunds"]

    gave_up, refunds = _run(scenario)
    assert gave_up
    assert [(r["key"], r["status"]) for r in refunds] == [("r-1", "succeeded")]


@pytest.mark.parametrize(
    "knobs",
    [{"charge_answer_status": 200}, {"lookup_status": 99}, {"refund_delay_ms": -1}, {"x": 1}],
)
def test_fault_knobs_are_validated(knobs: dict[str, Any]) -> None:
    async def scenario(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
        response = await http.put("/_faults", json=knobs)
        return response.status_code, (await http.get("/_faults")).json()

    status, faults = _run(scenario)
    assert status == 422
    assert faults["charge_answer_status"] is None  # unchanged: all off


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_gateway_command_serves_a_named_ledger() -> None:
    port = _free_port()
    argv = [sys.executable, "-m", "reference_service", "gateway", "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--name", "fallback"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ledger = httpx.get(f"http://127.0.0.1:{port}/ledger", timeout=1.0)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.1)  # polling interval while waiting for the port, not a sync
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert ledger.json() == {"gateway": "fallback", "charges": [], "refunds": []}
