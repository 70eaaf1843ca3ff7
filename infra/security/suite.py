"""The security gate as an `assay run` suite.

The scanners (checkov above all) pin versions the main environment should not share, so the
gate runs as `tox -e security` (the environment made on first use); its results land in this
run's `security/` folder like any suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Summary
from assay.target import Target

ROOT = Path(__file__).resolve().parents[2]
GATE_TIMEOUT_S = 900


def run(run: Run, target: Target) -> Summary:
    """bandit, pip-audit, secrets scan, SBOM and checkov over this checkout (not the target):
    `tox -e security`, the command security staff run, made on first use, into this run."""
    env = {
        **os.environ,
        "ASSAY_RUNS_DIR": str(run.directory.parent),
        "ASSAY_RUN_ID": run.run_id,
    }
    try:
        gate = subprocess.run(
            [sys.executable, "-m", "tox", "run", "-e", "security"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=GATE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SuiteError(f"the security gate did not finish in {GATE_TIMEOUT_S} s") from exc
    summary_path = run.directory / "security" / "summary.json"
    if not summary_path.exists():
        said = (gate.stdout + gate.stderr)[-600:]
        raise SuiteError(f"the security gate wrote no summary (exit {gate.returncode}): {said}")
    # As the gate wrote it: a scanner crash is an error, the one expected "could not judge"
    # (no vulnerability database reachable) a waived skip, named in the summary's waivers.
    return Summary.read(summary_path)


SUITE = Suite(
    name="security",
    run=run,
    description="bandit, pip-audit, secrets scan, CycloneDX SBOM and checkov into security/",
    order=50,
)
