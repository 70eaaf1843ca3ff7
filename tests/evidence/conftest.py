"""Fixtures for evidence tests: a private copy of the fixture runs and a signing key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.record import Run, load_run
from assay.signing import Origin, Signer
from evidence.pack import Pack, build_pack
from tests.fixtures.runs.make_runs import HERE as FIXTURE_RUNS
from tests.fixtures.runs.make_runs import RUN_B


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A writable copy of the three fixture runs."""
    target = tmp_path / "runs"
    shutil.copytree(FIXTURE_RUNS, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def run_b(runs_dir: Path) -> Run:
    """The failing fixture run."""
    return load_run(runs_dir / RUN_B)


@pytest.fixture(scope="session")
def key() -> Ed25519PrivateKey:
    """A throwaway Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def signer(key: Ed25519PrivateKey) -> Signer:
    """The throwaway key as the configured signing key."""
    return Signer(key, Origin.CONFIGURED, "test key")


@pytest.fixture
def pack(run_b: Run, signer: Signer) -> Pack:
    """Run B's pack, built into its evidence folder."""
    return build_pack(run_b, signer)
