"""The command line: migrate, seed, serve (one worker and several), production guards."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

READY_DEADLINE_S = 60


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    unset = ("DATABASE_URL", "APP_ENV", "JWT_SECRET", "ADMIN_PASSWORD")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    # Development, chosen explicitly: seed creates the documented development admin.
    dev = {"APP_ENV": "development"}
    return {**env, **dev, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", **extra}


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_service", *args],
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _count(tmp_path: Path, sql: str) -> int:
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_migrate_then_seed_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    first = _run(tmp_path, "seed")
    assert first.returncode == 0, first.stderr
    skus = _count(tmp_path, "SELECT count(DISTINCT sku) FROM products")
    again = _run(tmp_path, "seed")
    assert again.returncode == 0
    assert "'products_added': 0" in again.stdout
    assert skus == _count(tmp_path, "SELECT count(*) FROM products") == 200
    assert _count(tmp_path, "SELECT count(DISTINCT category) FROM products") == 8
    assert _count(tmp_path, "SELECT count(*) FROM users WHERE role = 'admin'") == 1
    assert _count(tmp_path, "SELECT min(stock) FROM inventory") > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "JWT_SECRET"),
        ({"JWT_SECRET": "s" * 40}, "ADMIN_PASSWORD"),
        ({"JWT_SECRET": "short"}, "JWT_SECRET"),
    ],
)
def test_production_refuses_development_defaults(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    result = _run(tmp_path, "seed", APP_ENV="production", **extra)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(proc: subprocess.Popen[str], url: str) -> None:
    """Poll /health/ready until 200, the process dies, or the deadline passes."""
    deadline = time.monotonic() + READY_DEADLINE_S
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "service did not become ready"
        time.sleep(0.1)  # polling interval while waiting for a condition, not a sync


@contextmanager
def served(tmp_path: Path, *args: str, **env: str) -> Iterator[str]:
    """Start `serve` (settings in `env`), wait until ready (bounded), always stop it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_service", "serve", "--port", str(port), *args],
        env=_env(tmp_path, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_prepared_answers_over_http(tmp_path: Path, workers: str) -> None:
    with served(tmp_path, "--prepare", "--workers", workers) as url:
        assert httpx.get(f"{url}/health/live").json()["status"] == "ok"
        page = httpx.get(f"{url}/products", params={"limit": 100}).json()
        assert len(page["items"]) == 100
