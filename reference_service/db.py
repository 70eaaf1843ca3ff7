"""Engine and session factory. The request (or job) commits; services never do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_

from reference_service.settings import Settings

SQLITE_BEGIN = "sqlite_begin"  # execution option: how a SQLite transaction begins
SQLITE_BUSY_TIMEOUT_S = 30.0  # how long a SQLite writer waits for the write lock

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


class SqliteWriteGate:
    """One write transaction at a time per process, handed over in FIFO order.

    SQLite has one writer; a second `BEGIN IMMEDIATE` waits in SQLite's busy handler, which
    sleeps 1, 2, 5 ... up to 100 ms between tries instead of waking when the lock frees. Under
    load that turned a sub-millisecond wait into tens of milliseconds and let late comers
    overtake early ones. Writers of this process queue here instead (an asyncio lock taken at
    BEGIN, given back when the connection returns to the pool, after COMMIT or ROLLBACK);
    SQLite's own lock still orders this process against others.
    """

    HOLDS = "assay_holds_write_gate"

    def __init__(self, timeout_s: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout_s = timeout_s

    def enter(self, info: dict[Any, Any]) -> None:
        """Take the gate for the connection whose `info` this is (inside SQLAlchemy's greenlet)."""
        if info.get(self.HOLDS):
            return  # a second transaction on the same checkout: it holds the gate already
        await_(self._acquire())
        info[self.HOLDS] = True

    def leave(self, info: dict[Any, Any]) -> None:
        """Give the gate back if this connection holds it."""
        if info.pop(self.HOLDS, False):
            self._lock.release()

    async def _acquire(self) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._lock.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"no write slot on the SQLite database within {self._timeout_s:g} s"
            ) from None


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """Build the engine for the configured database (`pool_size` overrides the setting)."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_pre_ping=False,
            hide_parameters=True,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            # SQLAlchemy emits BEGIN itself (below), so the driver must not.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.close()

        gate = SqliteWriteGate(timeout_s=SQLITE_BUSY_TIMEOUT_S)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # A deferred transaction that reads then writes fails at once with SQLITE_BUSY
            # under concurrency instead of waiting, so writers take the write lock up front.
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            if mode != "DEFERRED":
                gate.enter(conn.info)
            try:
                conn.exec_driver_sql(f"BEGIN {mode}")
            except BaseException:
                gate.leave(conn.info)
                raise

        @event.listens_for(engine.sync_engine.pool, "checkin")
        def _checkin(_: Any, record: Any) -> None:
            gate.leave(record.info)

        return engine
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
