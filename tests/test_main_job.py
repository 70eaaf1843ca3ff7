"""The main job's summary is honest: a broken target shows red and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reference_service.flags import DEFAULT_FLAGS_FILE
from tests.reference_service.test_cli import served


@pytest.mark.slow
@pytest.mark.req("REQ-PAY-002")
def test_a_broken_target_fails_the_run_in_red(tmp_path: Path) -> None:
    # Deliberately broken: both payment gateways are down by default, so checkouts fail.
    flags = yaml.safe_load(DEFAULT_FLAGS_FILE.read_text())
    for name in ("payment_primary_down", "payment_fallback_down"):
        flags["flags"][name]["default"] = True
    broken = tmp_path / "broken-flags.yaml"
    broken.write_text(yaml.safe_dump(flags))
    runs = tmp_path / "runs"
    with served(tmp_path, "--prepare", FLAGS_FILE=str(broken)) as url:
        result = subprocess.run(
            [
                *[sys.executable, "-m", "assay", "run", "acceptance"],
                *["--target-url", url, "--runs-dir", str(runs)],
            ],
            env={**os.environ, "ASSAY_ACCEPTANCE_ARGS": "-k checks_out", "COLUMNS": "160"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "FAIL" in result.stdout
    assert "✘" in result.stdout  # the failing step is named on the summary screen
    (run_dir,) = [p for p in runs.iterdir() if (p / "run.json").exists()]
    summary = json.loads((run_dir / "acceptance" / "summary.json").read_text())
    assert summary["verdict"] == "fail"
    assert summary["counts"]["failed"] > 0
    assert (run_dir / "reports" / "status.html").exists()  # reports still built, showing it
