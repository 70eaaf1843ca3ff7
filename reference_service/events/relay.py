"""The outbox relay: publish undelivered events at least once, with their stable ids.

Embedded default: delivery is in-process (events are marked delivered). With NATS_URL, events
go to JetStream with `Nats-Msg-Id` = event id, so the broker drops a redelivered duplicate.
"""

from __future__ import annotations

import json
from typing import Protocol

import structlog
from nats.errors import Error as NatsError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service.db import utcnow
from reference_service.events.models import OutboxEvent

log = structlog.get_logger("reference_service.outbox")


class Publisher(Protocol):
    """Where events go."""

    name: str

    async def publish(self, event: OutboxEvent) -> None: ...
    async def aclose(self) -> None: ...


class InProcessPublisher:
    """No broker: delivery ends in this process (the admin API still lists every event)."""

    name = "in-process"

    async def publish(self, event: OutboxEvent) -> None:
        return None

    async def aclose(self) -> None:
        return None


def encode(event: OutboxEvent) -> bytes:
    """The wire form of an event."""
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "aggregate_id": event.aggregate_id,
            "occurred_at": event.created_at.isoformat(),
            "payload": event.payload,
        },
        separators=(",", ":"),
    ).encode()


class NatsPublisher:
    """NATS JetStream: one stream over the event subjects, deduplicated by event id."""

    name = "nats"

    def __init__(self, url: str, stream: str, subject_prefix: str = "") -> None:
        self.url = url
        self.stream = stream
        self.prefix = subject_prefix
        self._nc: object | None = None
        self._js: object | None = None

    async def _jetstream(self) -> object:
        if self._js is None:
            import nats

            nc = await nats.connect(self.url, connect_timeout=2, max_reconnect_attempts=2)
            js = nc.jetstream()
            domains = ("orders", "payments", "inventory")
            subjects = [f"{self.prefix}{domain}.*" for domain in domains]
            await js.add_stream(name=self.stream, subjects=subjects)
            self._nc, self._js = nc, js
        return self._js

    async def publish(self, event: OutboxEvent) -> None:
        js = await self._jetstream()
        await js.publish(  # type: ignore[attr-defined]
            f"{self.prefix}{event.type}",
            encode(event),
            headers={"Nats-Msg-Id": str(event.id)},
            timeout=2,
        )

    async def aclose(self) -> None:
        if self._nc is not None:
            await self._nc.close()  # type: ignore[attr-defined]


async def relay_once(
    sessions: async_sessionmaker[AsyncSession], publisher: Publisher, batch: int = 100
) -> int:
    """Deliver up to `batch` pending events in order; returns how many were delivered."""
    delivered = 0
    async with sessions.begin() as session:
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None))
            .order_by(OutboxEvent.seq)
            .limit(batch)
        )
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # workers share the work
        for event in (await session.scalars(query)).all():
            event.attempts += 1
            try:
                await publisher.publish(event)
            except (NatsError, OSError, TimeoutError) as exc:  # retried next round
                log.warning("outbox_publish_failed", publisher=publisher.name, error=repr(exc))
                break
            event.delivered_at = utcnow()
            delivered += 1
    return delivered


async def lag(session: AsyncSession) -> tuple[int, float]:
    """(pending events, age in seconds of the oldest)."""
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.delivered_at.is_(None)
            )
        )
    ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return int(pending), max(age, 0.0)
