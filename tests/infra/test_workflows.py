"""CI workflows validate against the GitHub workflow schema and do what the issue lists."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.iac import ROOT

pytestmark = pytest.mark.req("REQ-IAC-001")

WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _on(doc: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True.
    return doc.get("on") or doc[True]


def _steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def _schema_check(check: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_workflows_validate_against_the_github_workflow_schema(
    require_tool: Callable[[str], str],
) -> None:
    check = require_tool("check-jsonschema")
    proc = _schema_check(check, sorted(WORKFLOWS.glob("*.yml")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_malformed_workflow_is_rejected(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    check = require_tool("check-jsonschema")
    doc = _load("pr-gate.yml")
    del doc["jobs"]["lint"]["runs-on"]
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(doc))
    assert _schema_check(check, [broken]).returncode != 0


def test_the_pull_request_gate_runs_every_check() -> None:
    doc = _load("pr-gate.yml")
    assert "pull_request" in _on(doc)
    assert {"lint", "types", "unit", "acceptance", "contract", "perf", "security", "iac"} <= set(
        doc["jobs"]
    )
    assert "tox -e iac" in str(doc["jobs"]["iac"]["steps"])
    assert "tox -e security" in str(doc["jobs"]["security"]["steps"])
    # The smoke shape gates a change; the sustained shape runs nightly against staging.
    assert "tox -e perf" in str(doc["jobs"]["perf"]["steps"])
    assert "perf" in doc["jobs"]["evidence"]["needs"]


def test_the_nightly_runs_the_sustained_shape_against_staging_never_on_the_runner() -> None:
    doc = _load("nightly-perf.yml")
    env = doc["env"]
    assert env["ASSAY_PERF_SHAPE"] == "sustained"
    assert env["ASSAY_TARGET_URL"] == "${{ vars.ASSAY_STAGING_URL }}"
    for name in ("ASSAY_ADMIN_EMAIL", "ASSAY_ADMIN_PASSWORD", "ASSAY_PERF_EXEMPT_TOKEN"):
        assert env[name].startswith("${{ secrets."), name
    scripts = " ".join(str(step.get("run", "")) for step in _steps(doc))
    # No database or service of its own: the runner only drives the load.
    assert "apt-get" not in scripts
    assert "tox" not in scripts
    assert 'assay run perf --shape "$ASSAY_PERF_SHAPE"' in scripts


@pytest.mark.parametrize(
    ("name", "day_of_week"), [("nightly-perf.yml", "*"), ("weekly-chaos.yml", "1")]
)
def test_scheduled_workflows_run_on_their_cadence(name: str, day_of_week: str) -> None:
    cron = _on(_load(name))["schedule"][0]["cron"]
    assert cron.split()[4] == day_of_week


def test_release_builds_signs_and_attaches_sboms() -> None:
    doc = _load("release.yml")
    assert _on(doc)["push"]["tags"] == ["v*"]
    text = (WORKFLOWS / "release.yml").read_text()
    for needle in ("docker/build-push-action", "cyclonedx", "cosign sign", "cosign verify"):
        assert needle in text, needle
    assert doc["jobs"]["images"]["permissions"]["id-token"] == "write"


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_uploads_its_run_and_keeps_permissions_minimal(path: Path) -> None:
    doc = _load(path.name)
    assert doc["permissions"] == {"contents": "read"}
    uploads = [
        s for s in _steps(doc) if str(s.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert any("runs/" in str(s["with"]["path"]) for s in uploads)
