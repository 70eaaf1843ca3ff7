"""Feature flags: typed definitions from YAML, live values in the database, read through a
short-lived per-process snapshot so every request does not query them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from reference_service.db import Base, UtcDateTime, utcnow
from reference_service.errors import DomainError, NotFoundError

DEFAULT_FLAGS_FILE = Path(__file__).resolve().parents[1] / "config" / "feature-flags.yaml"
FlagValue = bool | int | float


class FlagRow(Base):
    """A flag's live value, when it differs from the default."""

    __tablename__ = "feature_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class FlagDefinition(BaseModel):
    """What a flag may hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["bool", "int", "float"]
    default: FlagValue
    min: float | None = None
    max: float | None = None
    description: str
    # A fault (payment latency, errors, outages, slow queries): its purpose is to make requests
    # fail, so it is set and read only where fault injection is on (Settings.fault_injection).
    fault: bool = False

    def coerce(self, name: str, value: object) -> FlagValue:
        """The value, if it fits the type and range; a 422 problem otherwise."""
        ok = (
            (self.type == "bool" and isinstance(value, bool))
            or (self.type == "int" and isinstance(value, int) and not isinstance(value, bool))
            or (
                self.type == "float"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and value == value  # not NaN
            )
        )
        if not ok:
            raise DomainError("invalid-flag-value", 422, f"Flag {name} takes a {self.type}.")
        assert isinstance(value, bool | int | float)
        if self.type != "bool" and (
            (self.min is not None and value < self.min)
            or (self.max is not None and value > self.max)
        ):
            raise DomainError(
                "invalid-flag-value", 422, f"Flag {name} must be between {self.min} and {self.max}."
            )
        return float(value) if self.type == "float" else value


def load_definitions(path: Path = DEFAULT_FLAGS_FILE) -> dict[str, FlagDefinition]:
    """The flag definitions file, validated."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: FlagDefinition.model_validate(raw) for name, raw in data["flags"].items()}


@dataclass(frozen=True)
class FlagState:
    """One flag as the admin API shows it."""

    name: str
    value: FlagValue
    default: FlagValue
    type: str
    description: str
    updated_at: datetime | None
    updated_by: str | None


class Flags:
    """Flag values for this process: a snapshot refreshed at most every `refresh_s` seconds."""

    def __init__(
        self,
        definitions: dict[str, FlagDefinition],
        sessions: async_sessionmaker[AsyncSession],
        refresh_s: float = 1.0,
        faults_enabled: bool = True,
    ) -> None:
        self.definitions = definitions
        self.sessions = sessions
        self.refresh_s = refresh_s
        self.faults_enabled = faults_enabled
        self._values: dict[str, FlagValue] = {n: d.default for n, d in definitions.items()}
        self._loaded_at = float("-inf")
        self._reload: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _stale(self) -> bool:
        return time.monotonic() - self._loaded_at >= self.refresh_s

    def _reload_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._reload is None or self._reload[0] is not loop:
            self._reload = (loop, asyncio.Lock())
        return self._reload[1]

    async def snapshot(self) -> dict[str, FlagValue]:
        """Current values; reloads from the database when the snapshot is older than refresh_s.

        One reload at a time: readers that find the snapshot stale while another reloads wait
        for that reload instead of each running their own.
        """
        if not self._stale():
            return self._values
        async with self._reload_lock():
            if self._stale():
                async with self.sessions() as session:
                    rows = (await session.scalars(select(FlagRow))).all()
                values = {n: d.default for n, d in self.definitions.items()}
                values.update({r.name: r.value for r in rows if self._live(r.name)})
                self._values, self._loaded_at = values, time.monotonic()
        return self._values

    def _live(self, name: str) -> bool:
        """Whether a stored value counts: a fault stored while fault injection was on (an
        earlier run, a shared database) has no effect, nor shows, where it is off."""
        definition = self.definitions.get(name)
        return definition is not None and (self.faults_enabled or not definition.fault)

    def settable(self, name: str) -> bool:
        """Whether PUT may change this flag here (a fault flag needs fault injection on)."""
        return self._live(name)

    async def get(self, name: str) -> FlagValue:
        """One flag's current value."""
        return (await self.snapshot())[name]

    def invalidate(self) -> None:
        """Reload on next read (after a change in this process)."""
        self._loaded_at = float("-inf")

    async def describe(self, session: AsyncSession) -> list[FlagState]:
        """Every flag with its live value and who last changed it."""
        rows = {
            r.name: r for r in (await session.scalars(select(FlagRow))).all() if self._live(r.name)
        }
        return [
            FlagState(
                name=name,
                value=rows[name].value if name in rows else d.default,
                default=d.default,
                type=d.type,
                description=d.description,
                updated_at=rows[name].updated_at if name in rows else None,
                updated_by=rows[name].updated_by if name in rows else None,
            )
            for name, d in sorted(self.definitions.items())
        ]

    async def set(
        self, session: AsyncSession, name: str, value: object, actor: str
    ) -> tuple[FlagValue, FlagValue]:
        """Change a flag in the caller's transaction; returns (before, after)."""
        definition = self.definitions.get(name)
        if definition is None:
            raise NotFoundError(f"Flag {name}")
        new = definition.coerce(name, value)
        row = await session.get(FlagRow, name, with_for_update=True)
        before = row.value if row is not None else definition.default
        if row is None:
            session.add(FlagRow(name=name, value=new, updated_by=actor))
        else:
            row.value, row.updated_by = new, actor
        await session.flush()
        self.invalidate()
        return before, new
