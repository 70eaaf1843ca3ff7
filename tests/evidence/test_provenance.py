"""Provenance per evidence item: tool and version, when it was collected, which run made it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assay.catalog.model import CATALOG_DIR
from assay.manifest import build_manifest
from assay.record import load_run
from assay.summary import Summary
from tests.fixtures.runs.make_runs import RUN_B

TOOLS = {
    "security/bandit.json": ("bandit", "1.8.3"),
    "security/pip-audit.json": ("pip-audit", "2.9.0"),
    "security/secrets.json": ("detect-secrets", "1.5.0"),
    "security/sbom.cdx.json": ("cyclonedx-bom", "6.1.1"),
    "security/checkov.json": ("checkov", "3.2.400"),
}


def _record_tools(run_dir: Path) -> None:
    """What the security gate writes: each report's scanner, version and collection time."""
    path = run_dir / "security" / "summary.json"
    summary = Summary.read(path)
    tools = {
        name: {"tool": tool, "version": version, "collected_at": f"2026-11-19T06:15:{i:02d}+00:00"}
        for i, (name, (tool, version)) in enumerate(TOOLS.items())
    }
    summary.model_copy(update={"metrics": {**summary.metrics, "tools": tools}}).write(path.parent)


def test_every_scanner_item_names_its_tool_version_and_collection_time(runs_dir: Path) -> None:
    _record_tools(runs_dir / RUN_B)
    manifest = build_manifest(load_run(runs_dir / RUN_B))
    for i, (name, (tool, version)) in enumerate(TOOLS.items()):
        item = manifest.item(name)
        assert item is not None
        assert (item.tool, item.tool_version) == (tool, version)
        assert item.collected_at.isoformat() == f"2026-11-19T06:15:{i:02d}+00:00"


def test_the_manifest_names_the_ci_run_and_actor(runs_dir: Path) -> None:
    record = json.loads((runs_dir / RUN_B / "run.json").read_text())
    record["provenance"] = {
        "ci": "github-actions",
        "ci_run_id": "4242/1",
        "ci_run_url": "https://github.com/acme/assay/actions/runs/4242",
        "actor": "octocat",
        "host": "runner-7",
    }
    (runs_dir / RUN_B / "run.json").write_text(json.dumps(record))
    manifest = build_manifest(load_run(runs_dir / RUN_B))
    assert manifest.provenance.ci_run_id == "4242/1"
    assert manifest.provenance.actor == "octocat"
    assert manifest.git_commit == record["git_commit"]
    assert (manifest.target_kind, manifest.target_version) == ("local", record["target"]["version"])


def test_a_run_without_recorded_provenance_still_names_its_host(runs_dir: Path) -> None:
    manifest = build_manifest(load_run(runs_dir / RUN_B))
    assert manifest.provenance.host == "ci-runner-1"


def test_a_file_no_check_cites_is_credited_to_no_control(runs_dir: Path) -> None:
    (runs_dir / RUN_B / "perf" / "locust.log").write_text("started\n")
    manifest = build_manifest(load_run(runs_dir / RUN_B))
    stray = manifest.item("perf/locust.log")
    assert stray is not None
    assert (stray.requirements, stray.controls) == ([], [])
    summary = manifest.item("perf/summary.json")
    assert summary is not None
    assert "A1.2" in summary.controls  # the summary records every check's verdict


def test_the_runs_catalog_snapshot_fixes_the_mapping(runs_dir: Path) -> None:
    snapshot = runs_dir / RUN_B / "catalog"
    shutil.copytree(CATALOG_DIR, snapshot, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    reqs = snapshot / "requirements.yaml"
    reqs.write_text(
        reqs.read_text().replace(
            '{id: REQ-SUP-001, title: "Code, dependencies and secrets are scanned; an SBOM is '
            'produced", seed: ["7", "8", "14", "26"], controls: [CC6.8]',
            '{id: REQ-SUP-001, title: "Code, dependencies and secrets are scanned; an SBOM is '
            'produced", seed: ["7", "8", "14", "26"], controls: [CC7.1]',
        )
    )
    manifest = build_manifest(load_run(runs_dir / RUN_B))
    bandit = manifest.item("security/bandit.json")
    assert bandit is not None
    assert bandit.controls == ["CC7.1"]  # the snapshot's mapping, not the installed one
    assert manifest.catalog_source == "run"
    assert manifest.item("catalog/requirements.yaml") is not None
