"""The security gate as an `assay run` suite.

The scanners (checkov above all) pin versions the main environment should not share, so the
gate runs in tox's `security` environment, made on first use; its results land in this
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
TOX_ENV = ROOT / ".tox" / "security"
GATE_TIMEOUT_S = 900


def _gate_python() -> Path:
    python = TOX_ENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [sys.executable, "-m", "tox", "run", "-e", "security", "--notest"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=GATE_TIMEOUT_S,
            check=False,
        )
        if made.returncode != 0 or not python.exists():
            raise SuiteError(f"could not prepare the security tools: {made.stderr[-400:]}")
    return python


def run(run: Run, target: Target) -> Summary:
    """bandit, pip-audit, secrets scan, SBOM and checkov over this checkout (not the target)."""
    env = {
        **os.environ,
        "ASSAY_RUNS_DIR": str(run.directory.parent),
        "ASSAY_RUN_ID": run.run_id,
        "BC_SKIP_MAPPING": "TRUE",
    }
    gate = subprocess.run(  # noqa: S603 - fixed module of our own
        [str(_gate_python()), "-m", "infra.security", "--root", str(ROOT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=GATE_TIMEOUT_S,
        check=False,
    )
    summary_path = run.directory / "security" / "summary.json"
    if not summary_path.exists():
        raise SuiteError(f"the security gate wrote no summary: {gate.stderr[-400:]}")
    # As the gate wrote it: a scanner crash is an error, the one expected "could not judge"
    # (no vulnerability database reachable) a waived skip, named in the summary's waivers.
    return Summary.read(summary_path)


SUITE = Suite(
    name="security",
    run=run,
    description="bandit, pip-audit, secrets scan, CycloneDX SBOM and checkov into security/",
    order=50,
)
