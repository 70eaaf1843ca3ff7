"""Servers the benchmark measures: the bare FastAPI app and the reference service, same settings."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from assay.scratch import scratch_database
from assay.target import free_port, wait_ready
from perf.bench.targets import POSTGRES_REDIS, SQLITE

# Generous limits: the load comes from one loopback address and a few accounts.
SERVICE_ENV = {
    "RATE_LIMIT_PER_CLIENT": "100000000/minute",
    "RATE_LIMIT_ORDERS_PER_USER": "100000000/minute",
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": "bench-admin-password",
    "JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, its backend's label and its top process."""

    base_url: str
    label: str
    pid: int


def _serve_command(app: str, port: int, workers: int) -> list[str]:
    """uvicorn for one worker, gunicorn with uvicorn workers for more (as reference_service)."""
    if workers <= 1:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        f"{app}()",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]


@contextmanager
def _running(
    command: list[str], env: dict[str, str], url: str, label: str, ready: Callable[[str], None]
) -> Iterator[Server]:
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            ready(url)
            yield Server(url, label, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


@contextmanager
def bare(workers: int) -> Iterator[Server]:
    """The bare FastAPI endpoint at /ping."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = _serve_command("perf.bench.bare:create_app", port, workers)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with _running(command, env, url, "bare FastAPI", _wait_ping) as server:
        yield server


@contextmanager
def responder() -> Iterator[Server]:
    """The canned responder (perf.bench.responder): a target that is never the bottleneck."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "perf.bench.responder", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with _running(command, env, url, "canned responder", _wait_ping) as server:
        yield server


def _wait_ping(url: str) -> None:
    for attempt in Retrying(
        stop=stop_after_delay(30),
        wait=wait_fixed(0.1),
        retry=retry_if_exception_type(httpx.HTTPError),
    ):
        with attempt:
            httpx.get(f"{url}/ping", timeout=1).raise_for_status()


def _wait_service(url: str) -> None:
    wait_ready(url, timeout_s=60)


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    """A fresh database of our own on a PostgreSQL server; dropped afterwards."""
    return scratch_database(admin_url, "assay_bench")


@contextmanager
def reference(workers: int, database_url: str | None, redis_url: str | None) -> Iterator[Server]:
    """The reference service, migrated and seeded, on SQLite (default) or the given database."""
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        env = {**os.environ, **SERVICE_ENV}
        env["DATABASE_URL"] = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        for step in ("migrate", "seed"):
            subprocess.run(  # noqa: S603 - our interpreter running the reference service
                [sys.executable, "-m", "reference_service", step],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "reference_service",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        backend = POSTGRES_REDIS if database_url else SQLITE
        with _running(command, env, url, backend, _wait_service) as server:
            yield server
