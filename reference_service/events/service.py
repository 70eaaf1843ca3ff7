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


async def append(session: AsyncSession, *events: Event) -> None:
    """Add events to the outbox, in order, with one statement: they commit or roll back with
    the change they describe."""
    rows = [
        {"type": kind, "aggregate_id": str(aggregate), "payload": payload}
        for kind, aggregate, payload in events
    ]
    await session.execute(_APPEND, rows)
