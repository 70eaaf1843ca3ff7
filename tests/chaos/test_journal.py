"""Journals -> experiment verdicts, invariants, resilience scores and readable reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chaos.journal import read_journal, suite_score


def _run(
    name: str, func: str, output: Any, kind: str = "probe", status: str = "succeeded"
) -> dict[str, Any]:
    return {
        "activity": {"type": kind, "name": name, "provider": {"func": func}},
        "output": output,
        "status": status,
    }


def _journal(tmp_path: Path, after_held: bool, method_held: bool) -> Path:
    ok = {"held": True, "reason": ""}
    after = {"held": after_held, "reason": "" if after_held else "checkout traffic missed SLO"}
    journal = {
        "experiment": {
            "title": "t",
            "tags": ["REQ-PAY-002"],
            "extensions": [{"name": "assay", "weight": 5}],
        },
        "status": "completed",
        "deviated": not after_held,
        "duration": 12.5,
        "steady_states": {
            "before": {
                "steady_state_met": True,
                "probes": [
                    _run("slo", "traffic_within_slo", ok),
                    _run("neg", "stock_never_negative", ok),
                ],
            },
            "after": {
                "steady_state_met": after_held,
                "probes": [_run("slo", "traffic_within_slo", after)],
            },
        },
        "run": [
            _run("flag", "set_flag", {"name": "x"}, kind="action"),
            _run("load", "traffic_within_slo", {"held": None, "reason": "measured only"}),
            _run(
                "breaker",
                "breaker_opens",
                {"held": method_held, "reason": "" if method_held else "stayed 0"},
            ),
        ],
        "rollbacks": [_run("clear", "clear_flags", [], kind="action")],
    }
    path = tmp_path / "x.journal.json"
    path.write_text(json.dumps(journal))
    return path


def test_all_held_passes_with_full_score(tmp_path: Path) -> None:
    result = read_journal(_journal(tmp_path, after_held=True, method_held=True))
    assert result.passed
    assert result.score == 100.0
    assert result.invariants() == {"stock_never_negative": True}
    assert result.summary()["probes_judged"] == 4  # the measured-only probe is not judged


def test_a_method_probe_that_did_not_hold_fails_with_its_reason(tmp_path: Path) -> None:
    result = read_journal(_journal(tmp_path, after_held=False, method_held=False))
    assert not result.passed
    assert result.score == 50.0
    assert result.reasons() == [
        "after: slo: checkout traffic missed SLO",
        "method: breaker: stayed 0",
    ]
    assert suite_score([result, read_journal(_journal(tmp_path, True, True))]) == 75.0


def _invariant_journal(tmp_path: Path, name: str, *, method: bool, lost_order: bool) -> Path:
    """Many probes held, but (optionally) the acknowledged-orders invariant did not."""
    ok = {"held": True, "reason": ""}
    lost = {"held": False, "reason": "1 acknowledged order missing"}
    cold = {"held": False, "reason": "target not in its steady state before the fault"}
    probes = [_run(f"slo-{i}", "traffic_within_slo", ok) for i in range(15)]
    probes.append(_run("acked", "acknowledged_orders_exist", lost if lost_order else ok))
    journal = {
        "experiment": {"title": name, "extensions": [{"name": "assay", "weight": 10}]},
        "status": "completed" if method else "failed",
        "deviated": False,
        "steady_states": {
            "before": {
                "steady_state_met": method,
                "probes": probes[:1] if method else [_run("slo", "traffic_within_slo", cold)],
            },
            "after": {"steady_state_met": True, "probes": probes[1:]} if method else None,
        },
        "run": [_run("kill", "kill_worker", {}, kind="action")] if method else [],
        "rollbacks": [],
    }
    path = tmp_path / f"{name}.journal.json"
    path.write_text(json.dumps(journal))
    return path


def test_a_broken_data_invariant_fails_the_experiment_outright(tmp_path: Path) -> None:
    result = read_journal(_invariant_journal(tmp_path, "lost", method=True, lost_order=True))
    assert not result.passed
    assert result.invariant_broken
    assert result.score == 0.0  # not 15 of 16 probes (about 94 %)
    assert result.summary()["invariants"] == {"acknowledged_orders_exist": False}
    assert "1 acknowledged order missing" in "\n".join(result.reasons())


def test_the_score_counts_only_experiments_whose_method_ran(tmp_path: Path) -> None:
    ran = read_journal(_invariant_journal(tmp_path, "ran", method=True, lost_order=False))
    stopped = read_journal(_invariant_journal(tmp_path, "stopped", method=False, lost_order=False))
    assert ran.method_ran
    assert not stopped.method_ran
    assert stopped.score == 0.0  # its one probe, before any fault, did not hold
    assert suite_score([ran, stopped]) == 100.0  # the stopped one is reported, not scored
    assert suite_score([stopped]) is None
