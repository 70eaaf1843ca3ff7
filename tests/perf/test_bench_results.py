"""The benchmark's results file and targets, from fixed figures (no load is run)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assay.summary import SloResult, Summary, Verdict
from perf.bench import cpu, journeys
from perf.bench.__main__ import parser, render
from perf.bench.load import Level
from perf.bench.results import Kind, Record, document, level_record, read, redact, write
from perf.bench.targets import (
    AUTH_READ,
    BROWSE_50,
    CACHED_READ,
    CEILING,
    GOALS,
    KNEE,
    LOCAL_STACK,
    MANAGED_DEFAULT,
    POSTGRES_REDIS,
    SQLITE,
    SUSTAINED,
    goal_for,
)
from perf.config import DEFAULT_CONFIG, load_config

MACHINE = {
    "cores": 2,
    "memory_gib": 7.8,
    "cpu_model": "Test CPU",
    "python": "CPython 3.12.3",
    "platform": "Linux-test",
}
GIT = {"sha": "abc1234", "dirty": True, "changed": ["perf/bench/load.py"]}
WHEN = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
CONFIG = load_config(DEFAULT_CONFIG)  # the shipped shapes, whatever ASSAY_PERF_CONFIG says


def level(rps: float, p95: float, errors: int = 0, cpu_ms: float | None = None) -> Level:
    return Level(16, rps, p95, p95 / 2, errors, int(rps * 5), cpu_ms)


def rows() -> list[Record]:
    return [
        level_record(CEILING, "bare", "-", Kind.CEILING, level(10_000, 5.0), 10_000),
        level_record(CACHED_READ, "cached", POSTGRES_REDIS, Kind.ANONYMOUS, level(5_000, 4.0), 1e4),
        level_record(CACHED_READ, "cached", SQLITE, Kind.ANONYMOUS, level(5_000, 4.0), 1e4),
        level_record(BROWSE_50, "mix", SQLITE, Kind.ANONYMOUS, level(2_500, 60.0), 1e4, "over"),
        level_record(AUTH_READ, "auth", SQLITE, Kind.AUTHENTICATED, level(900, 9.0, 0, 2.25)),
        level_record(BROWSE_50, "mix", POSTGRES_REDIS, Kind.ANONYMOUS, None),
    ]


def written(tmp_path: Path) -> dict[str, object]:
    options = vars(parser().parse_args(["--no-postgres", "--results", str(tmp_path / "r.json")]))
    contents = document(rows(), options, ["--no-postgres"], when=WHEN, host=MACHINE, git=GIT)
    return read(write(tmp_path / "r.json", contents))


def test_the_results_file_holds_machine_commit_date_command_and_rows(tmp_path: Path) -> None:
    data = written(tmp_path)
    assert data["date"] == "2026-12-01T08:30:00Z"
    assert data["machine"] == MACHINE
    assert data["commit"] == GIT
    assert data["command"] == "python -m perf.bench --no-postgres"
    assert data["options"]["no_postgres"] is True  # type: ignore[index]
    rows_ = data["rows"]
    assert isinstance(rows_, list)
    assert [(r["key"], r["backend"]) for r in rows_] == [(r.key, r.backend) for r in rows()]
    cached = rows_[1]
    assert cached["kind"] == "anonymous reads"
    assert cached["figures"]["rps"] == 5_000
    assert cached["figures"]["share_of_ceiling_pct"] == 50.0


def test_each_row_has_its_target_beside_it_and_whether_it_meets_it(tmp_path: Path) -> None:
    by_row = {(r["key"], r["backend"]): r for r in written(tmp_path)["rows"]}  # type: ignore[attr-defined]
    ceiling = by_row[(CEILING, "-")]
    assert ceiling["target"] is None
    assert ceiling["meets_target"] is None
    pg = by_row[(CACHED_READ, POSTGRES_REDIS)]
    assert pg["target"]["text"] == "≥ 60 % of the bare-FastAPI ceiling"
    assert pg["target"]["source"] == "issue 16"
    assert pg["target"]["conditions"] == [
        {
            "figure": "share_of_ceiling_pct",
            "comparison": ">=",
            "threshold": 60,
            "unit": "% of the bare-FastAPI ceiling",
        }
    ]
    assert pg["meets_target"] is False  # 50 % of the ceiling
    assert by_row[(CACHED_READ, SQLITE)]["meets_target"] is True  # 50 % against 40 %
    mix = by_row[(BROWSE_50, SQLITE)]
    assert mix["target"]["text"] == "≥ 2,000 RPS, p95 < 50 ms, errors = 0"
    assert mix["meets_target"] is False  # fast enough, but p95 over 50 ms
    assert mix["note"] == "over"
    auth = by_row[(AUTH_READ, SQLITE)]
    assert auth["figures"]["cpu_ms_per_request"] == 2.25
    assert auth["meets_target"] is False
    unfitted = by_row[(BROWSE_50, POSTGRES_REDIS)]
    assert unfitted["figures"] == {}
    assert unfitted["meets_target"] is None


def test_targets_are_judged_on_their_figures() -> None:
    cpu = goal_for(AUTH_READ, POSTGRES_REDIS)
    assert cpu is not None
    assert cpu.met({"cpu_ms_per_request": 0.8}) is True
    assert cpu.met({"cpu_ms_per_request": 1.0}) is True  # at most 1 ms
    assert cpu.met({"cpu_ms_per_request": 1.2}) is False
    assert cpu.met({}) is None
    sustained = goal_for(SUSTAINED, MANAGED_DEFAULT)
    assert sustained is not None
    good = {"verdict": "pass", "achieved_rps": 297.0, "max_journey_p95_ms": 120, "failures": 0}
    assert sustained.met(good) is True
    assert sustained.met({**good, "verdict": "fail"}) is False
    assert sustained.met({**good, "failures": None}) is None
    assert goal_for(CEILING, "-") is None
    assert {key for key, _ in GOALS} >= {AUTH_READ, SUSTAINED, KNEE, CACHED_READ}


def dsn(password: str) -> str:
    """A database URL with a password, built so no source line looks like a leaked one."""
    return "postgresql://bench:" + password + "@db:5432/x"


def test_passwords_in_urls_stay_out_of_the_committed_file() -> None:
    assert redact(dsn("hunter2")) == "postgresql://bench:***@db:5432/x"
    assert redact("--postgres=" + dsn("hunter2")) == "--postgres=postgresql://bench:***@db:5432/x"
    assert redact("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"
    contents = document(
        [], {"postgres": dsn("hunter2")}, ["--postgres", dsn("hunter2")],
        when=WHEN, host=MACHINE, git=GIT,
    )  # fmt: skip
    assert "hunter2" not in json.dumps(contents)
    assert contents["options"]["postgres"] == "postgresql://bench:***@db:5432/x"


def test_a_schema_the_reader_does_not_know_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema": 99, "rows": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="schema 99"):
        read(path)


def test_the_printed_table_says_each_rows_target_and_verdict(tmp_path: Path) -> None:
    table = render(written(tmp_path)["rows"], 2)  # type: ignore[arg-type]
    cached = next(line for line in table.splitlines() if "PostgreSQL + Redis" in line)
    assert "≥ 60 % of the bare-FastAPI ceiling: NOT met" in cached
    assert "2.25" in next(line for line in table.splitlines() if line.startswith("auth "))


def summary(metrics: Mapping[str, object], slos: list[SloResult], verdict: Verdict) -> Summary:
    return Summary(
        suite="perf",
        verdict=verdict,
        started_at=WHEN,
        finished_at=WHEN,
        duration_s=1.0,
        slos=slos,
        metrics=dict(metrics),
    )


def p95(observed: float, scope: str | None) -> SloResult:
    return SloResult(
        id="SLO-LATENCY-P95", objective=300, unit="ms", observed=observed, verdict=Verdict.PASS,
        scope=scope,
    )  # fmt: skip


def test_a_sustained_runs_summary_becomes_its_row(tmp_path: Path) -> None:
    slos = [p95(180.0, None), p95(120.0, "journey:browse"), p95(290.0, "journey:checkout")]
    metrics = {"achieved_rps": 296.4, "requests": 88_000, "failures": 0, "stages": [{"rps": 300}]}
    path = summary(metrics, slos, Verdict.PASS).write(tmp_path)
    row = journeys.record(SUSTAINED, path, CONFIG, MANAGED_DEFAULT).as_json()
    assert row["kind"] == Kind.JOURNEY_MIX
    assert row["measurement"] == "journey mix, sustained shape (300 RPS for 300 s)"
    figures = row["figures"]
    assert figures["verdict"] == "pass"
    assert figures["achieved_rps"] == 296.4
    assert figures["p95_ms"] == 180.0
    assert figures["journey_p95_ms"] == {"browse": 120.0, "checkout": 290.0}
    assert figures["max_journey_p95_ms"] == 290.0
    assert row["meets_target"] is True


def test_a_step_runs_knee_is_the_rate_achieved_at_the_last_step_that_held(tmp_path: Path) -> None:
    steps = [
        {"rps": 100, "achieved_rps": 99.1, "p95_ms": 80.0, "error_rate": 0, "verdict": "pass"},
        {"rps": 200, "achieved_rps": 187.5, "p95_ms": 250.0, "error_rate": 0, "verdict": "pass"},
        {"rps": 300, "achieved_rps": 150.2, "p95_ms": 900.0, "error_rate": 0, "verdict": "fail"},
    ]
    metrics = {"knee_rps": 200, "slo_broke": True, "steps": steps, "failures": 0}
    path = summary(metrics, [p95(170.0, None)], Verdict.PASS).write(tmp_path)
    row = journeys.record(KNEE, path, CONFIG, LOCAL_STACK).as_json()
    assert row["figures"]["knee_rps"] == 200
    assert row["figures"]["knee_achieved_rps"] == 187.5
    assert row["figures"]["p95_ms"] == 250.0
    assert row["meets_target"] is False  # 1,000 asked
    assert row["target"]["source"] == "issue 16"
    # The 1,000 RPS knee is asked of the local stack only: the default target's is a figure.
    default = journeys.record(KNEE, path, CONFIG, MANAGED_DEFAULT).as_json()
    assert (default["target"], default["meets_target"]) == (None, None)
    broken = {"knee_rps": None, "slo_broke": True, "steps": steps[2:], "failures": 3}
    path = summary(broken, [], Verdict.FAIL).write(tmp_path / "broken")
    nothing_held = journeys.record(KNEE, path, CONFIG, LOCAL_STACK).as_json()
    assert nothing_held["figures"]["knee_achieved_rps"] == 0.0
    assert nothing_held["meets_target"] is False


def test_journey_rows_without_a_run_keep_their_targets_and_say_why() -> None:
    missing = journeys.record(SUSTAINED, None, CONFIG, MANAGED_DEFAULT).as_json()
    assert missing["note"] == "the run wrote no summary.json"
    assert missing["meets_target"] is None
    placeholders = [r.as_json() for r in journeys.not_measured(CONFIG)]
    assert [(r["key"], r["backend"]) for r in placeholders] == [
        (SUSTAINED, MANAGED_DEFAULT),
        (KNEE, MANAGED_DEFAULT),
        (SUSTAINED, LOCAL_STACK),
        (KNEE, LOCAL_STACK),
    ]
    # Every placeholder keeps its target except the default target's knee (asked of the stack).
    assert [bool(r["target"]) for r in placeholders] == [True, False, True, True]
    assert all(r["meets_target"] is None for r in placeholders)
    assert all("--journey-mix" in r["note"] for r in placeholders)


def test_server_cpu_counts_each_process_from_its_own_start() -> None:
    before = {10: (1.0, 5.0), 11: (1.0, 2.0), 12: (1.0, 9.0)}
    # 10 ran on, 11's pid was reused by a new process, 12 ended, 13 started in between.
    after = {10: (1.0, 7.5), 11: (3.0, 0.5), 13: (4.0, 1.0)}
    assert cpu.spent(before, after) == pytest.approx(2.5 + 0.5 + 1.0)
    own = cpu.snapshot(os.getpid())
    assert os.getpid() in own
    assert own[os.getpid()][1] > 0  # this interpreter has run for a while
    assert cpu.snapshot(2**22 + 1) == {}  # beyond pid_max: no such process
