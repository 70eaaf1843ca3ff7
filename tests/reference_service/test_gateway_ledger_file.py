"""A gateway simulator given a ledger file keeps its ledger across processes: a chaos
experiment that kills and restarts a gateway must not erase the money it holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_service.payments.simulator import create_gateway_app

pytestmark = pytest.mark.req("REQ-PAY-003")


async def _call(ledger_file: Path | None, steps: list[tuple[str, str, dict[str, Any], str]]) -> Any:
    """Run requests against a fresh app (a new process, as far as the ledger knows)."""
    app = create_gateway_app("primary", ledger_file)
    transport = httpx.ASGITransport(app=app)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://primary") as http:
        for method, path, body, key in steps:
            headers = {"Idempotency-Key": key} if key else {}
            response = await http.request(method, path, json=body or None, headers=headers)
            answers.append((response.status_code, response.json()))
    return answers


def test_the_ledger_outlives_the_gateway_process(tmp_path: Path) -> None:
    ledger_file = tmp_path / "gateway-primary-ledger.jsonl"
    charge = {"amount": 1999, "currency": "USD", "token": "tok_visa"}
    [(status, charged)] = asyncio.run(_call(ledger_file, [("POST", "/charges", charge, "k1")]))
    assert status == 201
    refund = {"charge_id": charged["id"], "amount": 1999}

    # "Restarted": the same key replays the same charge, a refund finds it, the ledger has both.
    (replay, refunded, lookup, (_, ledger)) = asyncio.run(
        _call(
            ledger_file,
            [
                ("POST", "/charges", charge, "k1"),
                ("POST", "/refunds", refund, "r1"),
                ("GET", "/charges/by-key/k1", {}, ""),
                ("GET", "/ledger", {}, ""),
            ],
        )
    )
    assert replay == (201, charged)
    assert refunded[0] == 201
    assert lookup[1]["id"] == charged["id"]
    assert [(c["key"], c["id"], c["status"]) for c in ledger["charges"]] == [
        ("k1", charged["id"], "succeeded")
    ]
    assert [(r["key"], r["charge_id"], r["amount"]) for r in ledger["refunds"]] == [
        ("r1", charged["id"], 1999)
    ]

    # A third start reads both entries back, with the times first recorded.
    [(_, again)] = asyncio.run(_call(ledger_file, [("GET", "/ledger", {}, "")]))
    assert again == ledger


def test_without_a_ledger_file_each_app_starts_empty(tmp_path: Path) -> None:
    charge = {"amount": 500, "currency": "EUR", "token": "tok_visa"}
    asyncio.run(_call(None, [("POST", "/charges", charge, "k1")]))
    [(_, ledger)] = asyncio.run(_call(None, [("GET", "/ledger", {}, "")]))
    assert ledger["charges"] == []
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere it was not asked to
