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
