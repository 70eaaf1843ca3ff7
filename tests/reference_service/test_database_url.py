"""DATABASE_URL: the spellings people are handed work, anything else is one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from assay.scratch import scratch_database
from reference_service.database_url import normalise_database_url
from reference_service.settings import Settings
from tests.reference_service.test_cli import _count, _run


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///shop.db", "sqlite+aiosqlite:///shop.db"),
        ("sqlite+aiosqlite:///shop.db", "sqlite+aiosqlite:///shop.db"),
        ("postgres://u:p@db:5432/shop", "postgresql+psycopg://u:p@db:5432/shop"),
        (
            "postgresql://u:p@db/shop?sslmode=require",
            "postgresql+psycopg://u:p@db/shop?sslmode=require",
        ),
        ("postgresql+psycopg://u@db/shop", "postgresql+psycopg://u@db/shop"),
    ],
)
def test_accepted_forms_choose_the_async_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
    assert Settings(database_url=given).database_url == expected


@pytest.mark.parametrize("given", ["mysql://u@db/shop", "postgresql+asyncpg://u@db/x", "shop.db"])
def test_other_forms_are_refused_naming_the_accepted_ones(given: str) -> None:
    with pytest.raises(ValidationError, match=r"sqlite:///PATH, postgresql://\.\.\., postgres://"):
        Settings(database_url=given)


def test_seed_on_a_plain_sqlite_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    for command in ("migrate", "seed"):
        result = _run(tmp_path, command, DATABASE_URL=url, ADMIN_PASSWORD="a-test-admin-password")
        assert result.returncode == 0, result.stderr
    assert _count(tmp_path, "SELECT COUNT(*) FROM products") > 0


def test_an_unknown_scheme_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    result = _run(tmp_path, "seed", DATABASE_URL="mysql://u@127.0.0.1/shop")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "postgres://" in lines[0]
    assert "sqlite://" in lines[0]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_spellings_migrate_a_real_database(tmp_path: Path, scheme: str) -> None:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    with scratch_database(admin_url, "assay_url") as url:
        plain = make_url(url).set(drivername=scheme).render_as_string(hide_password=False)
        assert plain.startswith(f"{scheme}://")
        result = _run(tmp_path, "migrate", DATABASE_URL=plain)
        assert result.returncode == 0, result.stderr
        assert "migrated" in result.stdout
