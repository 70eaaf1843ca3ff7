"""The acceptance suite end to end through `assay run acceptance`: managed and remote targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.summary import Summary, Verdict
from assay.target import managed_target

pytestmark = [pytest.mark.slow, pytest.mark.exclusive]

TIMEOUT_S = 600


def assay_run(
    runs: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m assay run acceptance ...` with runs under `runs`, no inherited target."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    return subprocess.run(
        [sys.executable, "-m", "assay", "run", "acceptance", *args],
        env={**base, "ASSAY_RUNS_DIR": str(runs), **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def only_run(runs: Path) -> Path:
    (run_dir,) = [p.parent for p in runs.glob("*/run.json")]
    return run_dir


# The money path's features: the whole suite runs in CI's main job (`assay run`) against the
# same kind of target, so here a part of it proves the plumbing (xdist, Cucumber, summary).
MONEY_PATH = "-k 'cart or checkout or idempotency or payment'"


def test_against_a_managed_reference_service(tmp_path: Path) -> None:
    done = assay_run(tmp_path, env={"ASSAY_ACCEPTANCE_ARGS": MONEY_PATH})
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    run_dir = only_run(tmp_path)
    out = run_dir / "acceptance"
    assert (out / "junit.xml").is_file()
    cucumber = json.loads((out / "cucumber.json").read_text())
    scenarios = sum(len(feature["elements"]) for feature in cucumber)
    assert scenarios > 15, "cucumber.json made it through xdist"
    summary = Summary.read(out / "summary.json")
    assert summary.verdict is Verdict.PASS
    assert summary.counts.failed == summary.counts.errors == 0
    # Every scenario, and the gateways' ledgers reconciled with the run's orders at the end.
    assert summary.counts.passed == scenarios + 1
    ledger = next(check for check in summary.checks if check.id == "ledger::gateways-agree")
    assert ledger.verdict is Verdict.PASS
    assert all(check.requirements for check in summary.checks), (
        "every scenario carries requirement ids"
    )
    run = json.loads((run_dir / "run.json").read_text())
    assert run["target"]["kind"] == "managed"
    assert run["target"]["version"]
    assert run["suites"]["acceptance"]["verdict"] == "pass"
    print(f"acceptance suite against a managed target: {summary.duration_s:.1f} s")  # the benchmark


def test_against_a_separately_started_service(tmp_path: Path) -> None:
    with managed_target() as service:
        assert service.admin is not None
        done = assay_run(
            tmp_path,
            "--target-url",
            service.base_url,
            env={
                "ASSAY_ADMIN_EMAIL": service.admin.email,
                "ASSAY_ADMIN_PASSWORD": service.admin.password,
                # The deployed service's gateways, so the remote run reconciles their ledgers.
                "ASSAY_GATEWAY_LEDGERS": ",".join(f"{k}={v}" for k, v in service.ledgers.items()),
            },
        )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    run_dir = only_run(tmp_path)
    summary = Summary.read(run_dir / "acceptance" / "summary.json")
    assert summary.verdict is Verdict.PASS
    assert json.loads((run_dir / "run.json").read_text())["target"]["kind"] == "remote"
    # Without ASSAY_JWT_SECRET the tokens that need the secret are skipped, and say why.
    skipped = [c for c in summary.checks if c.verdict is Verdict.SKIPPED]
    assert skipped
    assert all("ASSAY_JWT_SECRET" in (c.message or "") for c in skipped)
    assert any("ASSAY_JWT_SECRET" in note for note in summary.notes)
