"""Shared fixtures: a fresh, migrated and seeded database per test (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app on it, and an HTTP client."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from assay.scratch import scratch_database
from reference_service.app import create_app
from reference_service.migrate import upgrade
from reference_service.settings import Settings
from tests.builders import seed_database

BACKENDS = ["sqlite", "postgres"]


def _pg_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must set TEST_DATABASE_URL so the PostgreSQL tests run")
        return None
    return url


def _prepare(settings: Settings) -> None:
    upgrade(settings)
    seed_database(settings)


def machine_lock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lock file of `machine_to_itself`, shared by this session's xdist workers."""
    return tmp_path_factory.getbasetemp().parent / "assay-machine.lock"


@contextmanager
def _holding(tmp_path_factory: pytest.TempPathFactory, mode: int) -> Iterator[None]:
    with machine_lock(tmp_path_factory).open("a") as handle:
        fcntl.flock(handle, mode)  # released when the file closes
        yield


@pytest.fixture
def machine_to_itself(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No other slow test runs meanwhile, on any xdist worker of the session.

    An exclusive lock on a file every worker shares (the parent of the workers' temporary
    directories). Every `exclusive` test takes it (see `slow_tests_take_turns`).
    """
    with _holding(tmp_path_factory, fcntl.LOCK_EX):
        yield


@pytest.fixture
def machine_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same lock, shared: other shared holders run meanwhile, an exclusive one never."""
    with _holding(tmp_path_factory, fcntl.LOCK_SH):
        yield


@pytest.fixture(autouse=True)
def slow_tests_take_turns(request: pytest.FixtureRequest) -> None:
    """`exclusive` tests judge latency or timing windows (perf gates, chaos probes, payment
    timeouts under faults): two at once on the two shared cores made a healthy stack miss its
    checkout p95 (320 ms against 300) in CI, so they have the machine to themselves. Other
    `slow` tests (servers started and stopped, CLI runs, fuzzing) share it with each other,
    never with an exclusive one; the fast tests run beside them all."""
    if request.node.get_closest_marker("exclusive") is not None:
        request.getfixturevalue("machine_to_itself")
    elif request.node.get_closest_marker("slow") is not None:
        request.getfixturevalue("machine_shared")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _prepare(Settings(app_env="development", database_url=f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL template database of our own; dropped at the end."""
    admin_url = _pg_admin_url()
    if admin_url is None:
        yield None
        return
    with scratch_database(admin_url, "assay_tpl") as url:
        _prepare(Settings(app_env="development", database_url=url))
        yield make_url(url).database


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str | None
) -> Iterator[str]:
    """A fresh migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin_url = _pg_admin_url()
    if admin_url is None or pg_template is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    with scratch_database(admin_url, "assay_t", template=pg_template) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings on the fresh database (fault injection on: many tests inject faults)."""
    return Settings(app_env="test", database_url=database_url, fault_injection=True)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The service on a database holding the deterministic seed."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client on the app (lifespan included)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
