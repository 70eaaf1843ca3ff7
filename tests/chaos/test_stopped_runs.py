"""A chaos run stopped, killed or crashed mid-experiment (faults on, rollbacks not yet run)
still ends with every fault flag and gateway fault knob at its default, read back, and its
summary says how the run ended and what the rollbacks and the reset did (issue 18)."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.record import load_run
from assay.run import Run
from assay.summary import Check, Summary, Verdict
from assay.target import Target, TargetKind, managed_target
from chaos.adapter import run_chaos
from chaos.restore import CHECK_ID, fault_flags
from chaos.runner import GRACE_ENV, TIMEOUT_ENV
from infra.local.processes import wait_until

pytestmark = pytest.mark.slow

FLAGS_SET = {"payment_latency_ms": 1500, "db_slow_query_ms": 150}
BLOCK_S = "120"  # far longer than any budget below: the run is always stopped inside it


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The reference service and its two gateways, run as a deployed target is (HTTP only)."""
    logs = tmp_path_factory.mktemp("chaos-target")
    with managed_target(log_dir=logs, ready_timeout_s=240) as started:
        yield replace(started, kind=TargetKind.REMOTE)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: Target) -> Run:
    for name in ("ASSAY_CHAOS_EXPERIMENTS", "ASSAY_STACK_FILE", TIMEOUT_ENV, GRACE_ENV):
        monkeypatch.delenv(name, raising=False)
    assert _faults_on(target) == {}, "the target starts clean"
    return Run.open(None, tmp_path / "runs", environ={})


def _action(label: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    provider = {"type": "python", "module": "chaos.actions", "func": func, "arguments": arguments}
    return {"type": "action", "name": label, "provider": provider}


def _process(kind: str, name: str, path: str, *arguments: str) -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "provider": {"type": "process", "path": path, "arguments": list(arguments)},
    }


def _faults() -> list[dict[str, Any]]:
    """Both fault flags and a gateway knob on, as experiments 04, 06 and 07 set them."""
    flags = [_action(f"set-{n}", "set_flag", {"name": n, "value": v}) for n, v in FLAGS_SET.items()]
    knob = {"name": "primary", "faults": {"post_charge_delay_ms": 800}}
    return [*flags, _action("slow-primary", "set_gateway_faults", knob)]


BLOCK = _process("probe", "block", "sleep", BLOCK_S)
# Rollbacks undo only part of the faults: the rest is the end-of-run reset's to find.
ROLLBACK = _action("clear-latency", "clear_flags", {"names": ["payment_latency_ms"]})


def _experiment(
    directory: Path, stem: str, method: list[dict[str, Any]], rollbacks: list[dict[str, Any]]
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.json"
    experiment = {
        "version": "1.0.0",
        "title": f"{stem}: faults on, then the run stops",
        "description": "Sets fault flags and a gateway knob, then blocks.",
        "tags": [],
        "extensions": [{"name": "assay", "needs": ["http"]}],
        "method": method,
        "rollbacks": rollbacks,
    }
    path.write_text(json.dumps(experiment), encoding="utf-8")
    return path


def _faults_on(target: Target) -> dict[str, Any]:
    """Every fault flag or gateway knob of the target that is not at its default."""
    assert target.admin is not None
    with httpx.Client(base_url=target.base_url, timeout=10) as http:
        login = {"email": target.admin.email, "password": target.admin.password}
        token = http.post("/auth/token", json=login).json()["access_token"]
        flags = http.get("/admin/flags", headers={"Authorization": f"Bearer {token}"}).json()
    found = {f["name"]: f["value"] for f in flags if f["value"] != f["default"]}
    assert set(found) <= set(fault_flags()), "only fault flags change here"
    for name, url in target.ledgers.items():
        knobs = httpx.get(f"{url}/_faults", timeout=10).json()
        found.update({f"{name}.{k}": v for k, v in knobs.items() if v})
    return found


def _check(summary: Summary, ident: str) -> Check:
    return next(c for c in summary.checks if c.id == ident)


def _journal(run: Run, stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run.suite_dir("chaos") / f"{stem}.journal.json").read_text())
    return data


def _faults_were_on(journal: dict[str, Any]) -> None:
    """The run was stopped after its faults were on (else it would prove nothing)."""
    statuses = {r["activity"]["name"]: r.get("status") for r in journal["run"]}
    assert [statuses.get(n) for n in ("set-payment_latency_ms", "set-db_slow_query_ms")] == [
        "succeeded",
        "succeeded",
    ], f"the budget ended before the faults were on: {statuses}"
    assert statuses.get("slow-primary") == "succeeded"


def _assert_reset(summary: Summary, target: Target, by_harness: list[str]) -> None:
    check = _check(summary, CHECK_ID)
    assert check.verdict is Verdict.PASS, check.message
    reset = summary.metrics["faults_reset"]
    assert reset["flags_reset"] == by_harness
    assert reset["gateways_reset"] == ["primary"]
    assert set(reset["verified"]) == {*fault_flags(), "gateway primary", "gateway fallback"}
    assert _faults_on(target) == {}


@pytest.mark.req("REQ-PAY-002")
def test_a_run_over_its_budget_is_interrupted_so_its_rollbacks_run_then_every_fault_is_reset(
    run: Run, target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiments = tmp_path / "experiments"
    _experiment(experiments, "01-stuck", [*_faults(), BLOCK], [ROLLBACK])
    monkeypatch.setenv(TIMEOUT_ENV, "6")

    summary = run_chaos(run, target, experiments_dir=experiments)

    journal = _journal(run, "01-stuck")
    _faults_were_on(journal)
    assert journal["status"] == "interrupted"  # SIGINT: chaoslib's graceful stop
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    stopped = summary.metrics["runs"]["01-stuck"]
    assert (stopped["outcome"], stopped["rollbacks"]) == (
        "interrupted",
        {"declared": 1, "played": 1, "failed": 0},
    )
    check = _check(summary, "chaos/experiments/01-stuck.json")
    assert check.verdict is Verdict.ERROR
    assert "ran over its 6 s budget: stopped with SIGINT" in (check.message or "")
    assert "rollbacks played: 1 of 1" in (check.message or "")
    assert summary.verdict is Verdict.FAIL
    _assert_reset(summary, target, by_harness=["db_slow_query_ms"])


def test_a_crashed_chaos_run_plays_no_rollback_yet_every_fault_is_reset(
    run: Run, target: Target, tmp_path: Path
) -> None:
    experiments = tmp_path / "experiments"
    crash = _process("action", "crash", "sh", "-c", "kill -9 $PPID")  # $PPID: chaos itself
    _experiment(experiments, "01-crash", [*_faults(), crash], [ROLLBACK])
    _experiment(experiments, "02-after", [BLOCK], [])

    summary = run_chaos(run, target, experiments_dir=experiments)

    crashed = summary.metrics["runs"]["01-crash"]
    assert (crashed["outcome"], crashed["exit_code"], crashed["journal"]) == ("exited", -9, False)
    message = _check(summary, "chaos/experiments/01-crash.json").message or ""
    assert "chaos died of SIGKILL; no journal: its rollbacks did not run" in message
    not_run = _check(summary, "chaos/experiments/02-after.json")
    assert (not_run.verdict, "02-after" in summary.metrics["runs"]) == (Verdict.ERROR, False)
    assert summary.counts.errors == 2
    _assert_reset(summary, target, by_harness=["db_slow_query_ms", "payment_latency_ms"])


def test_rollbacks_that_outlast_the_grace_period_are_killed_and_every_fault_is_reset(
    run: Run, target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiments = tmp_path / "experiments"
    stuck_rollback = _process("action", "stuck-rollback", "sleep", BLOCK_S)
    _experiment(experiments, "01-stuck", [*_faults(), BLOCK], [stuck_rollback])
    monkeypatch.setenv(TIMEOUT_ENV, "6")
    monkeypatch.setenv(GRACE_ENV, "2")

    summary = run_chaos(run, target, experiments_dir=experiments)

    killed = summary.metrics["runs"]["01-stuck"]
    assert (killed["outcome"], killed["exit_code"]) == ("killed", -signal.SIGKILL)
    assert killed["stop_took_s"] >= 2  # the grace period was given before the kill
    message = _check(summary, "chaos/experiments/01-stuck.json").message or ""
    assert "stopped with SIGINT, still running 2." in message
    assert "so killed; no journal" in message
    _assert_reset(summary, target, by_harness=["db_slow_query_ms", "payment_latency_ms"])


class _Unprotected(Exception):
    """The signal reached the test's own handler: the suite did not handle it."""


@pytest.mark.parametrize(
    ("sig", "raised", "code"),
    [(signal.SIGTERM, SystemExit, 143), (signal.SIGINT, KeyboardInterrupt, None)],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_harness_stopped_mid_experiment_stops_it_gracefully_resets_and_records_then_exits(
    run: Run,
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sig: signal.Signals,
    raised: type[BaseException],
    code: int | None,
) -> None:
    assert threading.current_thread() is threading.main_thread()  # signals go to it
    experiments = tmp_path / "experiments"
    _experiment(experiments, "01-stuck", [*_faults(), BLOCK], [ROLLBACK])
    monkeypatch.setenv(TIMEOUT_ENV, "60")  # bounds the test if the signal never comes

    def unprotected(signum: int, frame: object) -> None:
        raise _Unprotected(signal.Signals(signum).name)

    def stop_the_harness_once_faults_are_on() -> None:
        primary = f"{target.ledgers['primary']}/_faults"  # its knob is the last fault set

        def faults_on() -> bool:
            return bool(httpx.get(primary, timeout=10).json()["post_charge_delay_ms"])

        wait_until(faults_on, 60, "the experiment's faults")
        os.kill(os.getpid(), sig)

    previous = signal.signal(sig, unprotected)
    stopper = threading.Thread(target=stop_the_harness_once_faults_are_on, daemon=True)
    try:
        stopper.start()
        with pytest.raises(raised) as stopped:
            run_chaos(run, target, experiments_dir=experiments)
    finally:
        stopper.join(timeout=70)
        signal.signal(sig, previous)
    if code is not None:
        assert getattr(stopped.value, "code", None) == code

    summary = Summary.model_validate_json((run.suite_dir("chaos") / "summary.json").read_text())
    assert f"the harness was stopped ({sig.name})" in summary.notes
    _faults_were_on(_journal(run, "01-stuck"))
    message = _check(summary, "chaos/experiments/01-stuck.json").message or ""
    assert f"the harness was stopped ({sig.name}): stopped with SIGINT" in message
    assert "rollbacks played: 1 of 1" in message
    _assert_reset(summary, target, by_harness=["db_slow_query_ms"])
    assert load_run(run.directory).record.suites["chaos"] is Verdict.FAIL
