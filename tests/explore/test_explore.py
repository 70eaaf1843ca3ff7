"""The exploration against live reference services: it passes the healthy one and catches a
deliberately weakened one (a failed lookup trusted as "not charged") by name, with a
regression file that replays the double capture."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.run import Run
from assay.summary import Summary, Verdict
from assay.target import Target, managed_target
from explore.adapter import MANAGED_TARGET_ENV, run_explore

pytestmark = [pytest.mark.slow, pytest.mark.exclusive]
ROOT = Path(__file__).resolve().parents[2]
READY_S = 300.0  # the shared machine may be busy; starting is not what is tested
WEAKENED = {**MANAGED_TARGET_ENV, "PAYMENT_TRUST_FAILED_LOOKUP": "true"}


def _target(factory: pytest.TempPathFactory, name: str, env: dict[str, str]) -> Iterator[Target]:
    with managed_target(
        log_dir=factory.mktemp(name), ready_timeout_s=READY_S, service_env=env
    ) as target:
        yield target


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from _target(tmp_path_factory, "healthy", MANAGED_TARGET_ENV)


@pytest.fixture(scope="module")
def weakened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from _target(tmp_path_factory, "weakened", WEAKENED)


def explore(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Run:
    for name, value in env.items():
        monkeypatch.setenv(f"ASSAY_EXPLORE_{name}", value)
    run = Run.create(tmp_path / "runs")
    run.record_suite(run_explore(run, target))
    return run


def replay(regression: Path, target: Target | None) -> subprocess.CompletedProcess[str]:
    """The regression file run by pytest, as a developer would: against `target`, or with no
    target named, against a weakened reference service the replay starts for itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(target.env() if target else {"PAYMENT_TRUST_FAILED_LOOKUP": "true"})
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(regression), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.req("REQ-PAY-003", "REQ-PAY-002")
def test_the_weakened_service_fails_the_exploration_naming_the_double_capture(
    weakened: Target, healthy: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Up to 150 s to find it (a busy machine is slow), then 20 s to shrink it.
    bounds = {"SEED": "12", "BUDGET_S": "150", "SHRINK_S": "20", "STEPS": "20"}
    run = explore(weakened, tmp_path, monkeypatch, **bounds)
    summary = Summary.read(run.directory / "explore" / "summary.json")
    assert summary.verdict is Verdict.FAIL
    checks = {check.id: check for check in summary.checks}
    capture = checks["explore::one-capture"]
    assert capture.verdict is Verdict.FAIL
    assert "double capture" in (capture.message or "")
    assert checks["ledger::gateways-agree"].verdict is Verdict.FAIL
    kinds = {m["kind"] for m in summary.metrics["ledger"]["mismatches"]}
    assert "double-capture" in kinds
    assert summary.metrics["seed"] == 12
    assert summary.metrics["steps"] > 0
    (regression,) = [a for a in summary.artifacts if "/regressions/" in a]
    path = run.directory / regression
    # On a fresh weakened service: the explored one may still hold a breaker open (its
    # recovery is 10 s), and a checkout that skips the primary cannot charge twice.
    caught = replay(path, None)
    assert caught.returncode == 1, caught.stdout[-3000:]
    assert "double capture" in caught.stdout
    fixed = replay(path, healthy)
    assert fixed.returncode == 0, fixed.stdout[-3000:]


@pytest.mark.req("REQ-INV-001", "REQ-ORD-001", "REQ-ORD-005", "REQ-PAY-003")
def test_the_healthy_service_passes_a_short_exploration(
    healthy: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = explore(healthy, tmp_path, monkeypatch, SEED="3", BUDGET_S="25", STEPS="15")
    summary = Summary.read(run.directory / "explore" / "summary.json")
    failing = [(c.id, c.message) for c in summary.checks if c.verdict is not Verdict.PASS]
    assert summary.verdict is Verdict.PASS, failing
    assert summary.metrics["ledger"]["held"]
    assert summary.metrics["examples"] > 0
    assert summary.metrics["answers"].get("checkout 201", 0) > 0
    assert not list((run.directory / "explore").glob("regressions/*.py"))


@pytest.mark.req("REQ-ORD-005")
def test_assay_run_explore_with_a_budget_records_the_run(healthy: Target, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = {**os.environ, **healthy.env(), "ASSAY_EXPLORE_SEED": "5", "COLUMNS": "160"}
    env.pop("ASSAY_TARGET_URL")
    result = subprocess.run(
        [
            *[sys.executable, "-m", "assay", "run", "explore", "--budget", "10", "--no-generate"],
            *["--target-url", healthy.base_url, "--runs-dir", str(runs)],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    (run_dir,) = [p.parent for p in runs.glob("*/run.json")]
    summary = Summary.read(run_dir / "explore" / "summary.json")
    assert summary.metrics["budget_s"] == 10
    assert summary.metrics["seed"] == 5
    assert (run_dir / "explore" / "hypothesis.log").is_file()
