"""Fixtures for the service's stress tests: apps with tweaked settings, a disposable Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference_service.app import create_app
from reference_service.payments.simulator import Ledger
from reference_service.settings import Settings

AppFactory = Callable[..., tuple[FastAPI, TestClient]]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[AppFactory]:
    """Build the app with some settings changed; every client is closed at the end."""
    opened: list[TestClient] = []

    def build(**overrides: Any) -> tuple[FastAPI, TestClient]:
        app = create_app(settings.model_copy(update={"background_jobs": False, **overrides}))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return app, client

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def ledger(app: FastAPI, gateway: str) -> Ledger:
    """The in-process gateway simulator's ledger (what it charged, its fault knobs)."""
    result: Ledger = app.state.runtime.simulators[gateway].state.ledger
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DisposableRedis:
    """A redis-server of our own on a free port; never the machine's shared one."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: apt-get install redis-server")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "disposable redis-server did not start"
                time.sleep(0.05)  # polling interval while waiting for the port, not a sync
        client.close()

    def stop(self) -> None:
        """Stop it (a chaos step mid-test, or the end of the test)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def disposable_redis(tmp_path: Path) -> Iterator[DisposableRedis]:
    """A redis-server that the test may stop."""
    server = DisposableRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()
