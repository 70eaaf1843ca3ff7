"""The embedded SQLite database: its engine, its one-writer gate, and calls on the loop's thread.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and
hands the result back through the event loop: four or five hand-offs a statement, each a
thread wake-up, a loop wake-up and a fight for the GIL. SQLite is a library on a local file;
its calls take microseconds. When one process serves (`serve` with one worker, the default
target), every call runs on the loop's thread instead: aiosqlite's API, no hand-off. That is
safe because nothing in the process waits on SQLite's locks: readers never wait in WAL mode,
and this process's writers queue at `WriteGate` (an asyncio lock) before `BEGIN IMMEDIATE`.
Only another process holding the write lock can make a call wait, for at most
`INLINE_BUSY_TIMEOUT_S`; `serve --workers N` on SQLite therefore turns inline calls off
(`SQLITE_INLINE=false`), so a worker waiting for another never stalls its loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from reference_service.settings import Settings

SQLITE_BEGIN = "sqlite_begin"  # execution option: how a SQLite transaction begins
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for the write lock (at the gate, or threaded)
INLINE_BUSY_TIMEOUT_S = 5.0  # how long an inline call may wait for another process's lock


class WriteGate:
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


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: whatever is put in runs at once, here."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (the event loop's).

    aiosqlite awaits a future for every call; here the future is already resolved when it is
    awaited, so the call returns without suspending. No thread is ever started.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()


def create_engine(settings: Settings) -> AsyncEngine:
    """The engine on the SQLite file: WAL, foreign keys, writers through the gate."""
    inline = settings.sqlite_inline
    busy_s = INLINE_BUSY_TIMEOUT_S if inline else BUSY_TIMEOUT_S
    options: dict[str, Any] = {}
    if inline:
        path = make_url(settings.database_url).database or ":memory:"

        async def connect() -> InlineConnection:
            # Pooled connections may serve another loop's thread (a test's portal, a job's
            # own loop); one pool checkout is used by one caller at a time.
            connection = InlineConnection(
                lambda: sqlite3.connect(path, timeout=busy_s, check_same_thread=False)
            )
            await connection
            return connection

        options["async_creator"] = connect
    else:
        options["connect_args"] = {"timeout": busy_s}
    engine = create_async_engine(
        settings.database_url, pool_pre_ping=False, hide_parameters=True, **options
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_s * 1000)}")
        cursor.close()

    gate = WriteGate(timeout_s=BUSY_TIMEOUT_S)

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
