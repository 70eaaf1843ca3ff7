"""The local provisioned stack: up, descriptor, status, refusal to touch foreign pids, teardown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psutil
import pytest

from infra.local import StackError, provisioned_stack, stack_up
from infra.local.components import MissingBinaryError, pg_bin_dir, redis_binary
from infra.local.processes import (
    ForeignProcessError,
    ProcessRecord,
    signal_ours,
    stack_processes,
)

pytestmark = pytest.mark.slow


class _Boom(Exception):
    """Raised inside the stack's block to prove teardown after a failed run."""


def _foreign_process() -> subprocess.Popen[bytes]:
    # Stands in for "a process the stack did not start" (never the machine's services).
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_stack_lifecycle_descriptor_refusal_and_teardown_after_failure(tmp_path: Path) -> None:
    descriptor = tmp_path / "stack.json"
    foreign = _foreign_process()
    root: Path | None = None
    stack_id = ""
    failed_run = False
    try:
        with provisioned_stack(descriptor, workers=2) as stack:
            root, stack_id = stack.root, stack.stack_id
            data = json.loads(descriptor.read_text())
            assert set(data["components"]) == {
                "postgres",
                "redis",
                "gateway-primary",
                "gateway-fallback",
                "service",
            }
            for component in data["components"].values():
                assert component["url"].startswith(
                    ("http://127.0.0.1:", "postgresql://", "redis://")
                )
                assert isinstance(component["pid"], int)
            assert Path(data["components"]["postgres"]["data_dir"]).is_dir()
            # The gateways' ledgers are the money oracle: the descriptor names them.
            assert data["ledgers"] == {
                name: data["components"][f"gateway-{name}"]["url"]
                for name in ("primary", "fallback")
            }
            for name, url in stack.ledgers.items():
                assert httpx.get(f"{url}/health").json()["name"] == name
            assert httpx.get(f"{stack.service_url}/health/ready").json()["checks"] == {
                "database": "ok",
                "cache": "ok",
            }
            assert all(stack.owns(name) for name in stack.components)
            if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as the unprivileged user
                postmaster = psutil.Process(stack.components["postgres"].process.pid)  # type: ignore[union-attr]
                assert postmaster.username() != "root"

            # Refusal: a pid the stack did not start is never signalled.
            alien = ProcessRecord.of(foreign.pid)
            with pytest.raises(ForeignProcessError):
                signal_ours(alien, stack.stack_id, signal.SIGKILL)
            stack.components["gateway-primary"].process = alien
            stack.stop("gateway-primary")  # treated as already gone, not killed
            assert foreign.poll() is None
            raise _Boom
    except _Boom:
        failed_run = True
    finally:
        foreign.kill()
        foreign.wait(timeout=10)
    assert failed_run
    assert root is not None
    assert not root.exists()
    assert not descriptor.exists()
    assert list(stack_processes(stack_id)) == []


def test_failed_stack_up_leaves_no_process_or_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # Production settings refuse the development admin password: migrate fails midway,
    # after PostgreSQL, Redis and both gateways are up.
    # Under the system temp dir: pytest's own tmp_path is private to root, and PostgreSQL's
    # unprivileged user must reach the stack's directory.
    temp = Path(tempfile.mkdtemp(prefix="assay-test-"))
    temp.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr("infra.local.stack.secrets.token_hex", lambda _n: "feedfacecafebeef")
    with pytest.raises(StackError, match="stack up failed") as failure:
        stack_up(tmp_path / "stack.json", workers=1, settings={"APP_ENV": "production"})
    assert "ADMIN_PASSWORD" in str(failure.value)
    assert list(temp.glob("assay-stack-*")) == []
    assert list(stack_processes("feedfacecafebeef")) == []
    assert not (tmp_path / "stack.json").exists()


def test_missing_binaries_name_their_debian_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("infra.local.components.glob.glob", lambda _pattern: [])
    monkeypatch.setenv("ASSAY_PG_BIN", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinaryError, match="Debian package `postgresql`"):
        pg_bin_dir()
    with pytest.raises(MissingBinaryError, match="Debian package `redis-server`"):
        redis_binary()
    with pytest.raises(MissingBinaryError):
        stack_up(tmp_path / "stack.json")
    assert not (tmp_path / "stack.json").exists()
