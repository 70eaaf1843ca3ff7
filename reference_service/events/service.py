"""Record domain events in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.db import table_of
from reference_service.events.models import OutboxEvent

Event = tuple[str, object, dict[str, Any]]  # type, aggregate id, payload

_OUTBOX = table_of(OutboxEvent)
_APPEND = insert(_OUTBOX)


def record(session: AsyncSession, event_type: str, aggregate_id: object, **payload: Any) -> None:
    """Add an event to the outbox; it commits or rolls back with the change it describes."""
    session.add(OutboxEvent(type=event_type, aggregate_id=str(aggregate_id), payload=payload))


async def append(session: AsyncSession, *events: Event) -> None:
    """Write events to the outbox now, in order, with one statement (the checkout's path;
    `record` leaves them to the session's flush)."""
    rows = [
        {"type": kind, "aggregate_id": str(aggregate), "payload": payload}
        for kind, aggregate, payload in events
    ]
    await session.execute(_APPEND, rows)
