"""The benchmark runs, prints its table and records it (figures are printed, never asserted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perf.bench.results import read
from perf.bench.targets import AUTH_READ, CACHED_READ, KNEE, MANAGED_DEFAULT, SQLITE, SUSTAINED


@pytest.mark.slow
@pytest.mark.exclusive
def test_the_benchmark_prints_its_table_and_records_it(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: .ci/run installs it (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perf.bench",
            "--duration",
            "1",
            "--no-postgres",
            "--results",
            str(tmp_path / "results.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    print(result.stdout)  # the figures, for whoever reads the test log
    for row in ("ceiling", "cached product read", "browse mix", "authenticated read", "Locust"):
        assert row.lower() in result.stdout.lower(), row
    locust = next(line for line in result.stdout.splitlines() if "Locust" in line)
    assert "canned responder" in locust  # the generator is measured, not a server behind it
    recorded = read(tmp_path / "results.json")
    rows = {(row["key"], row["backend"]): row for row in recorded["rows"]}
    assert rows[(CACHED_READ, SQLITE)]["figures"]["cpu_ms_per_request"] > 0
    authenticated = rows[(AUTH_READ, SQLITE)]
    assert authenticated["figures"]["cpu_ms_per_request"] > 0  # the server's CPU was read
    assert authenticated["figures"]["errors"] == 0  # every token was accepted
    assert authenticated["target"]["source"] == "issue 16"
    # Without --journey-mix its rows are there with their targets, not measured.
    assert rows[(SUSTAINED, MANAGED_DEFAULT)]["meets_target"] is None
    assert {key for key, _ in rows} >= {KNEE}
    assert recorded["options"]["no_postgres"] is True
    assert recorded["machine"]["cores"] >= 1
