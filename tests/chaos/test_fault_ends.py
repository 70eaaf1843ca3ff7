"""The chaos ledger probe judges a capture owed back from the last fault's end at the
earliest, as the exploration does: no service can refund through a gateway refusing refunds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chaos.context import Context
from chaos.ledger_probes import faults_cleared_at

pytestmark = pytest.mark.req("REQ-RES-001")


def _context(tmp_path: Path, *events: dict[str, object]) -> Context:
    context = Context(base_url="http://127.0.0.1:9", state_dir=tmp_path, stack=None)
    lines = [json.dumps(event) for event in events]
    context.events_file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return context


def test_the_last_action_that_ended_a_fault_is_when_faults_cleared(tmp_path: Path) -> None:
    context = _context(
        tmp_path,
        {"at": 100.0, "event": "gateway_faults_set", "gateway": "primary"},
        {"at": 110.0, "event": "gateway_faults_cleared", "gateways": ["primary"]},
        {"at": 120.0, "event": "postgres_stopped", "mode": "fast"},
        {"at": 130.0, "event": "postgres_started", "restarted": True},
        # A rollback that found everything running, and a reset with nothing to reset,
        # end no fault: they do not move the moment on.
        {"at": 140.0, "event": "postgres_started", "restarted": False},
        {"at": 150.0, "event": "flags_cleared", "flags": []},
        {"at": 160.0, "event": "worker_killed", "pids": [1]},
    )
    assert faults_cleared_at(context) == datetime.fromtimestamp(130.0, UTC)


def test_before_any_fault_ended_every_finding_keeps_its_own_clock(tmp_path: Path) -> None:
    assert faults_cleared_at(Context("http://127.0.0.1:9", tmp_path, None)) is None
    flagged = _context(
        tmp_path,
        {"at": 100.0, "event": "flag_set", "flag": "payment_primary_down", "value": True},
        {"at": 105.0, "event": "flags_cleared", "flags": ["payment_primary_down"]},
    )
    assert faults_cleared_at(flagged) == datetime.fromtimestamp(105.0, UTC)
