"""A scenario whose expectation is wrong fails with a Gherkin-level message, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assay.testing import stub_service

FEATURE = """@REQ-OBS-001
Feature: Health (deliberately wrong)
  Scenario: Liveness answers 201
    When someone sends GET /health/live without credentials
    Then the response status is 201
    And the response is a problem with status 201
"""

# The suite's own plumbing and steps, reused by a throwaway pytest-bdd project.
CONFTEST = """
from features.conftest import *  # noqa: F403
from features.conftest import (  # noqa: F401
    pytest_bdd_apply_tag, pytest_bdd_before_scenario, pytest_runtest_makereport,
)
from features.steps.conftest import *  # noqa: F403
"""

TEST = """from pytest_bdd import scenarios\n\nscenarios("wrong.feature")\n"""

INI = "[pytest]\nmarkers =\n    req(*ids): ids\n    exclusive: x\n    admin: x\n"


def test_a_wrong_expectation_reads_as_gherkin(tmp_path: Path) -> None:
    for name, text in {
        "wrong.feature": FEATURE,
        "conftest.py": CONFTEST,
        "test_wrong.py": TEST,
        "pytest.ini": INI,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with stub_service() as stub:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(tmp_path),
                "-p",
                "no:cacheprovider",
                "--strict-markers",
            ],
            cwd=tmp_path,
            env={**os.environ, "ASSAY_TARGET_URL": stub.base_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "Scenario: Liveness answers 201" in out
    assert "✔ When someone sends GET /health/live without credentials" in out
    assert "✘ Then the response status is 201" in out
    assert "expected HTTP 201, got GET /health/live → 200 application/json" in out
    assert "- And the response is a problem with status 201   (not run)" in out
    assert "Traceback" not in out
