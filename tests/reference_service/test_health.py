"""Liveness and readiness."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reference_service import __version__
from reference_service.app import create_app
from reference_service.settings import Settings

pytestmark = pytest.mark.req("REQ-OBS-001")


def test_live_reports_the_version(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_unready_but_alive_while_the_database_is_unreachable(tmp_path: Path, backend: str) -> None:
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db"
        if backend == "sqlite"
        else f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
    )
    with TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=False) as c:
        ready = c.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unreachable"
        assert c.get("/health/live").status_code == 200


@pytest.mark.req("REQ-RES-002")
def test_requests_while_the_database_is_down_are_503_with_retry_after(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
    app = create_app(Settings(database_url=url, background_jobs=False))
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/products/1")
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) >= 1
        body = response.json()
        assert body["type"].endswith("database-unavailable")
        assert "psycopg" not in response.text
        assert "127.0.0.1" not in response.text
