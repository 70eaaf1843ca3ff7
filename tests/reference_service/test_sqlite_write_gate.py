"""SQLite writers of one process queue at an asyncio gate (FIFO) instead of SQLite's sleeping
busy handler; the gate is given back on every way a transaction ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from reference_service import db, sqlite
from reference_service.settings import Settings

pytestmark = pytest.mark.req("REQ-INV-001")


def _settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "gate.db"
    path.write_bytes(sqlite_template.read_bytes())
    return Settings(app_env="test", database_url=f"sqlite+aiosqlite:///{path}")


def test_writers_wait_for_the_one_in_its_transaction_and_all_finish(
    sqlite_template: Path, tmp_path: Path
) -> None:
    settings = _settings(sqlite_template, tmp_path)
    order: list[str] = []

    async def run() -> None:
        engine = db.create_engine(settings)
        sessions = db.create_sessionmaker(engine)
        first_in = asyncio.Event()
        release_first = asyncio.Event()

        async def first() -> None:
            async with sessions() as session:
                await session.execute(text("UPDATE inventory SET stock = stock WHERE 0"))
                order.append("first began")
                first_in.set()
                await release_first.wait()
                await session.commit()
                order.append("first committed")

        async def other(name: str) -> None:
            await first_in.wait()
            async with sessions() as session:
                await session.execute(text("UPDATE inventory SET stock = stock WHERE 0"))
                order.append(f"{name} began")
                await session.commit()

        try:
            tasks = [asyncio.create_task(first())]
            tasks += [asyncio.create_task(other(f"w{i}")) for i in range(5)]
            await first_in.wait()
            release_first.set()
            async with asyncio.timeout(30):  # a gate never given back fails here, not hangs
                await asyncio.gather(*tasks)
        finally:
            await engine.dispose()

    asyncio.run(run())
    # Nobody wrote while the first held the gate, and every queued writer got its turn.
    assert order[:2] == ["first began", "first committed"]
    assert sorted(order[2:]) == [f"w{i} began" for i in range(5)]


def test_a_rolled_back_or_failed_transaction_gives_the_gate_back(
    sqlite_template: Path, tmp_path: Path
) -> None:
    settings = _settings(sqlite_template, tmp_path)

    async def run() -> None:
        engine = db.create_engine(settings)
        sessions = db.create_sessionmaker(engine)

        async def rolled_back() -> None:
            async for session in db.session_scope(sessions):
                await session.execute(text("UPDATE inventory SET stock = stock WHERE 0"))
                raise ValueError("boom")

        async def failed() -> None:
            async with sessions() as session:
                await session.execute(text("UPDATE no_such_table SET x = 1"))

        try:
            with pytest.raises(ValueError, match="boom"):
                await rolled_back()
            with pytest.raises(Exception, match="no such table"):
                await failed()
            # Both gave the gate back: a writer gets through at once, many times over.
            for _ in range(3):
                async with asyncio.timeout(5):
                    async with sessions() as session:
                        await session.execute(text("UPDATE inventory SET stock = stock WHERE 0"))
                        await session.commit()
            # Reads never queue at the gate.
            async with db.create_sessionmaker(engine, writes=False)() as reader:
                assert (await reader.execute(text("SELECT 1"))).scalar() == 1
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_writer_that_cannot_get_the_gate_in_time_gets_a_database_timeout() -> None:
    gate = sqlite.WriteGate(timeout_s=0.05)

    async def run() -> None:
        await gate._acquire()  # held, never given back
        with pytest.raises(PoolTimeoutError, match="no write slot"):
            await gate._acquire()

    asyncio.run(run())


def _driver_connection(settings: Settings) -> object:
    async def run() -> object:
        engine = db.create_engine(settings)
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                return type(raw.driver_connection)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_one_process_calls_sqlite_inline_and_several_through_aiosqlite_threads(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(sqlite_template, tmp_path)
    assert _driver_connection(settings) is sqlite.InlineConnection
    threaded = settings.model_copy(update={"sqlite_inline": False})
    assert _driver_connection(threaded) is not sqlite.InlineConnection
    # `serve --workers 2` on SQLite switches it off for its workers before gunicorn starts.
    from reference_service import __main__ as cli

    handed: list[dict[str, str]] = []
    monkeypatch.setattr(cli.os, "execve", lambda _exe, _argv, env: handed.append(env))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.delenv("SQLITE_INLINE", raising=False)
    cli.serve(settings, "127.0.0.1", 0, workers=2)
    assert handed[0]["SQLITE_INLINE"] == "false"
    assert "SQLITE_INLINE" not in cli.os.environ  # the caller's own environment is untouched
