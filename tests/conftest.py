"""Shared fixtures: a fresh, migrated and seeded database per test (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app on it, and an HTTP client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _prepare(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL template database of our own; dropped at the end."""
    admin_url = _pg_admin_url()
    if admin_url is None:
        yield None
        return
    name = f"assay_tpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _prepare(Settings(database_url=url))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
    name = f"assay_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings on the fresh database."""
    return Settings(app_env="test", database_url=database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The service on a database holding the deterministic seed."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client on the app (lifespan included)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
