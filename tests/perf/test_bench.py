"""The benchmark runs and prints its table (figures are printed, never asserted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.exclusive
def test_the_benchmark_prints_its_table() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: .ci/run installs it (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    result = subprocess.run(
        [sys.executable, "-m", "perf.bench", "--duration", "1", "--no-postgres"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    print(result.stdout)  # the figures, for whoever reads the test log
    for row in ("ceiling", "cached product read", "browse mix", "Locust"):
        assert row.lower() in result.stdout.lower(), row
    locust = next(line for line in result.stdout.splitlines() if "Locust" in line)
    assert "canned responder" in locust  # the generator is measured, not a server behind it
