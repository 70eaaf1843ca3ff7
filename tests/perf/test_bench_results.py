"""The benchmark's results file and targets, from fixed figures (no load is run)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from perf.bench import cpu
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
    MANAGED_DEFAULT,
    POSTGRES_REDIS,
    SQLITE,
    SUSTAINED,
    goal_for,
)

MACHINE = {
    "cores": 2,
    "memory_gib": 7.8,
    "cpu_model": "Test CPU",
    "python": "CPython 3.12.3",
    "platform": "Linux-test",
}
GIT = {"sha": "abc1234", "dirty": True, "changed": ["perf/bench/load.py"]}
WHEN = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


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


def test_passwords_in_urls_stay_out_of_the_committed_file() -> None:
    assert redact("postgresql://bench:hunter2@db:5432/x") == "postgresql://bench:***@db:5432/x"
    assert redact("--postgres=postgresql://u:pw@h/x") == "--postgres=postgresql://u:***@h/x"
    assert redact("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"
    contents = document(
        [], {"postgres": "postgresql://u:pw@h/x"}, ["--postgres", "postgresql://u:pw@h/x"],
        when=WHEN, host=MACHINE, git=GIT,
    )  # fmt: skip
    assert "pw" not in json.dumps(contents)


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


def test_server_cpu_counts_each_process_from_its_own_start() -> None:
    before = {10: (1.0, 5.0), 11: (1.0, 2.0), 12: (1.0, 9.0)}
    # 10 ran on, 11's pid was reused by a new process, 12 ended, 13 started in between.
    after = {10: (1.0, 7.5), 11: (3.0, 0.5), 13: (4.0, 1.0)}
    assert cpu.spent(before, after) == pytest.approx(2.5 + 0.5 + 1.0)
    own = cpu.snapshot(os.getpid())
    assert os.getpid() in own
    assert own[os.getpid()][1] > 0  # this interpreter has run for a while
    assert cpu.snapshot(2**22 + 1) == {}  # beyond pid_max: no such process
