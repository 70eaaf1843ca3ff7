"""The suite's money record: the ledger probe's runs in journals -> `ledger::gateways-agree`
and `metrics.ledger` in chaos/summary.json; a broken ledger fails the suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.summary import Verdict, utcnow
from chaos.adapter import summarize
from chaos.money import ledger_runs

FIGURES = {"captures": 12, "refunds": 2, "confirmed_orders": 10, "mismatches": []}


def _probe(func: str, output: Any, status: str = "succeeded") -> dict[str, Any]:
    name = func.replace("_", "-")
    return {
        "activity": {"type": "probe", "name": name, "provider": {"func": func}},
        "output": output,
        "status": status,
    }


def _ledger(held: bool, reason: str = "", **figures: Any) -> dict[str, Any]:
    return _probe("gateway_ledgers_agree", {"held": held, "reason": reason, **figures})


def _write(out: Path, stem: str, before: dict[str, Any], after: dict[str, Any]) -> Path:
    ok = _probe("stock_never_negative", {"held": True, "reason": ""})
    journal = {
        "experiment": {"title": stem, "tags": ["REQ-PAY-003"], "extensions": []},
        "status": "completed",
        "deviated": not after["output"]["held"],
        "duration": 30.0,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [ok, before]},
            "after": {"steady_state_met": after["output"]["held"], "probes": [ok, after]},
        },
        "run": [
            {
                "activity": {"type": "action", "name": "kill", "provider": {"func": "kill_worker"}},
                "output": {},
                "status": "succeeded",
            }
        ],
        "rollbacks": [],
    }
    (out / f"{stem}.journal.json").write_text(json.dumps(journal))
    return out / f"{stem}.json"  # the experiment's path: only its name is used


def test_ledger_runs_are_read_in_phase_order(tmp_path: Path) -> None:
    _write(tmp_path, "07-x", _ledger(True, **FIGURES), _ledger(False, "1 mismatches"))
    runs = ledger_runs(tmp_path / "07-x.journal.json")
    assert [(r.experiment, r.phase, r.held) for r in runs] == [
        ("07-x", "before", True),
        ("07-x", "after", False),
    ]
    assert runs[0].figures["captures"] == 12


def test_a_broken_ledger_fails_the_suite_with_the_check_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    out.mkdir()
    double = {**FIGURES, "mismatches": [{"kind": "double-capture", "key": "k"}]}
    paths = [
        _write(out, "01-a", _ledger(True, **FIGURES), _ledger(True, **FIGURES)),
        _write(
            out,
            "08-b",
            _ledger(True, **FIGURES),
            _ledger(False, "ledgers 1 mismatches: double-capture", **double),
        ),
    ]
    summary = summarize(out, tmp_path, paths, utcnow(), 60.0, [])
    check = next(c for c in summary.checks if c.id == "ledger::gateways-agree")
    assert check.verdict is Verdict.FAIL
    assert check.message == "08-b (after): ledgers 1 mismatches: double-capture"
    assert check.evidence == ["chaos/01-a.journal.json", "chaos/08-b.journal.json"]
    assert "REQ-PAY-003" in check.requirements
    assert summary.verdict is Verdict.FAIL
    assert (summary.counts.passed, summary.counts.failed) == (1, 2)  # 01 and 08, and the check
    ledger = summary.metrics["ledger"]
    assert ledger["held"] is False
    assert ledger["mismatches"] == [{"kind": "double-capture", "key": "k"}]  # the last report
    assert ledger["experiments"] == {
        "01-a": {"before": True, "after": True},
        "08-b": {"before": True, "after": False},
    }
    assert summary.metrics["experiments"]["08-b"]["resilience_score"] == 0.0


def test_ledgers_that_held_everywhere_pass_with_the_last_figures(tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    out.mkdir()
    last = {**FIGURES, "captures": 30}
    paths = [
        _write(out, "01-a", _ledger(True, **FIGURES), _ledger(True, **FIGURES)),
        _write(out, "02-b", _ledger(True, **FIGURES), _ledger(True, **last)),
    ]
    summary = summarize(out, tmp_path, paths, utcnow(), 60.0, [])
    check = next(c for c in summary.checks if c.id == "ledger::gateways-agree")
    assert check.verdict is Verdict.PASS
    assert check.message is not None
    assert check.message.startswith("held in all 4 reconciliations of 2 experiments: 30 captures")
    assert summary.verdict is Verdict.PASS
    assert summary.metrics["ledger"]["captures"] == 30
    assert summary.metrics["ledger"]["checks"] == 4


def test_journals_without_the_ledger_probe_add_no_check(tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    out.mkdir()
    ok = _probe("stock_never_negative", {"held": True, "reason": ""})
    paths = [_write(out, "04-a", ok, ok)]
    summary = summarize(out, tmp_path, paths, utcnow(), 10.0, [])
    assert [c.id for c in summary.checks] == ["chaos/experiments/04-a.json"]
    assert "ledger" not in summary.metrics
