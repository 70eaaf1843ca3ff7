"""Every experiment (local and Kubernetes) passes `chaos validate` and links the catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from chaos.adapter import EXPERIMENTS_DIR, experiments

ALL = sorted([*EXPERIMENTS_DIR.glob("*.json"), *EXPERIMENTS_DIR.glob("k8s/*.json")])
CHAOS = Path(sys.executable).with_name("chaos")


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_chaos_validate_accepts(path: Path) -> None:
    done = subprocess.run(
        [str(CHAOS), "--no-log-file", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "look valid" in done.stdout + done.stderr


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_experiment_shape_and_catalog_tags(path: Path) -> None:
    data = json.loads(path.read_text())
    catalog = load_catalog()
    assert data["title"]
    assert data["description"]
    assert data["steady-state-hypothesis"]["probes"]
    assert any(tag in catalog.requirements for tag in data["tags"])
    assert all(tag in catalog.all_ids() for tag in data["tags"])
    if path.parent == EXPERIMENTS_DIR:  # local experiments restore the stack
        assert data["rollbacks"], "a local experiment rolls back what it broke"


def test_six_local_experiments_and_http_only_selection() -> None:
    assert [p.name[:2] for p in experiments(http_only=False)] == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
    ]
    assert [p.name[:2] for p in experiments(http_only=True)] == ["04", "06"]
    assert [p.name[:2] for p in experiments(http_only=False, only=["04"])] == ["04"]
