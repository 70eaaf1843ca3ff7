"""Engine and session factory. The request (or job) commits; services never do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from reference_service import sqlite
from reference_service.settings import Settings
from reference_service.sqlite import SQLITE_BEGIN

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table, with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The table behind a mapped class.

    Hot paths (checkout) build their statements on it once, at import: a statement on the
    table skips the ORM's per-statement bookkeeping, and a prebuilt one skips building and
    hashing it again on every request.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def row_of(instance: Base, table: Table) -> dict[str, Any]:
    """The column values of a mapped instance, as parameters for an INSERT on its table."""
    return {column.key: getattr(instance, column.key) for column in table.columns}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """The service's clock."""
    return datetime.now(UTC)


def sync_url(url: str) -> str:
    """The same database for synchronous tools (Alembic): drop the async driver."""
    return url.replace("sqlite+aiosqlite", "sqlite", 1)


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """Build the engine for the configured database (`pool_size` overrides the setting)."""
    if settings.is_sqlite:
        return sqlite.create_engine(settings)
    size = pool_size or settings.db_pool_size
    return create_async_engine(
        settings.database_url,
        pool_size=size,
        max_overflow=size,
        pool_pre_ping=True,
        pool_timeout=10,
        # A failing query's parameters (emails, password hashes) never reach an error message.
        hide_parameters=True,
        connect_args={
            "connect_timeout": 5,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
    )


def create_sessionmaker(
    engine: AsyncEngine, *, writes: bool = True
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit; `writes=False` for read-only use."""
    bind = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if writes else engine
    return async_sessionmaker(bind, expire_on_commit=False)


async def session_scope(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
