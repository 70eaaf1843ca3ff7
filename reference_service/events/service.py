"""Record domain events in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.events.models import OutboxEvent


def record(session: AsyncSession, event_type: str, aggregate_id: object, **payload: Any) -> None:
    """Add an event to the outbox; it commits or rolls back with the change it describes."""
    session.add(OutboxEvent(type=event_type, aggregate_id=str(aggregate_id), payload=payload))
