"""Every experiment (local and Kubernetes) passes `chaos validate` and links the catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assay.catalog import load_catalog
from chaos.adapter import EXPERIMENTS_DIR, experiments, without_ledger_probe
from chaos.money import LEDGER_FUNC, LEDGER_PROBE

ALL = sorted([*EXPERIMENTS_DIR.glob("*.json"), *EXPERIMENTS_DIR.glob("k8s/*.json")])
CHAOS = Path(sys.executable).with_name("chaos")
AMBIGUOUS = sorted(EXPERIMENTS_DIR.glob("0[78]-*.json"))
METHOD_BUDGET_S = 40.0  # the hypotheses before and after add about 20 s: under a minute


def _validate(path: Path) -> None:
    done = subprocess.run(
        [str(CHAOS), "--no-log-file", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "look valid" in done.stdout + done.stderr


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_chaos_validate_accepts(path: Path) -> None:
    _validate(path)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_every_hypothesis_reconciles_the_gateway_ledgers_before_judging_traffic(
    path: Path,
) -> None:
    data = json.loads(path.read_text())
    probes = data["steady-state-hypothesis"]["probes"]
    funcs = [p["provider"].get("func") for p in probes]
    ledger = probes[funcs.index(LEDGER_FUNC)]
    assert ledger["name"] == LEDGER_PROBE
    assert ledger["tolerance"] == {"type": "jsonpath", "path": "$.held", "expect": True}
    # Chaos Toolkit stops a hypothesis at its first failure: a latency verdict on a busy
    # machine must not leave the money unjudged.
    traffic = [i for i, f in enumerate(funcs) if f in {"traffic_within_slo", "checkouts_answer"}]
    assert funcs.index(LEDGER_FUNC) < min(traffic, default=len(funcs))
    assert data["configuration"]["gateway_ledgers"]["key"] == "ASSAY_GATEWAY_LEDGERS"


def _calls(activities: list[dict[str, Any]], func: str) -> list[dict[str, Any]]:
    return [a for a in activities if a["provider"].get("func") == func]


@pytest.mark.parametrize("path", AMBIGUOUS, ids=[p.stem for p in AMBIGUOUS])
def test_ambiguous_window_experiments_cross_gateway_faults_and_reset_them(path: Path) -> None:
    data = json.loads(path.read_text())
    method = data["method"]
    knobs = {
        k
        for a in _calls(method, "set_gateway_faults")
        for k in a["provider"]["arguments"]["faults"]
    }
    assert knobs & {"charge_answer_status", "post_charge_delay_ms"}  # charged, then no answer
    assert _calls(method, "kill_worker") or _calls(method, "stop_postgres")
    assert _calls(method, "checkouts_capture_once")  # judged while the fault is on
    assert any(a.get("background") for a in method)  # checkout traffic through the window
    # Reset inside the method (the hypothesis after must see a healthy gateway) and as rollback.
    last_set = max(i for i, a in enumerate(method) if a["provider"]["func"] == "set_gateway_faults")
    assert any(a["provider"]["func"] == "clear_gateway_faults" for a in method[last_set:])
    assert _calls(data["rollbacks"], "clear_gateway_faults")


@pytest.mark.parametrize("path", AMBIGUOUS, ids=[p.stem for p in AMBIGUOUS])
def test_ambiguous_window_experiments_are_bounded(path: Path) -> None:
    method = json.loads(path.read_text())["method"]
    pauses = sum(a.get("pauses", {}).get("before", 0) for a in method)
    traffic = [a["provider"]["arguments"].get("duration_s", 0.0) for a in method]
    checkouts = sum(a["provider"]["arguments"].get("count", 0) for a in method) * 4.0
    assert pauses + max(traffic) + checkouts <= METHOD_BUDGET_S


def test_a_copy_without_the_ledger_probe_still_validates(tmp_path: Path) -> None:
    copy = without_ledger_probe(EXPERIMENTS_DIR / "04-payment-latency-spike.json", tmp_path)
    names = [p["name"] for p in json.loads(copy.read_text())["steady-state-hypothesis"]["probes"]]
    assert LEDGER_PROBE not in names
    assert "one-capture-per-order" in names
    _validate(copy)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_experiment_shape_and_catalog_tags(path: Path) -> None:
    data = json.loads(path.read_text())
    catalog = load_catalog()
    assert data["title"]
    assert data["description"]
    assert data["steady-state-hypothesis"]["probes"]
    assert any(tag in catalog.requirements for tag in data["tags"])
    assert all(tag in catalog.all_ids() for tag in data["tags"])
    if path.parent == EXPERIMENTS_DIR:  # local experiments restore the stack
        assert data["rollbacks"], "a local experiment rolls back what it broke"


def test_eight_local_experiments_and_http_only_selection() -> None:
    assert [p.name[:2] for p in experiments(http_only=False)] == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "07",
        "08",
    ]
    assert [p.name[:2] for p in experiments(http_only=True)] == ["04", "06"]
    assert [p.name[:2] for p in experiments(http_only=False, only=["04"])] == ["04"]
