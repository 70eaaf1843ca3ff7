"""The transactional outbox: events written in the same transaction as the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from reference_service.db import Base, UtcDateTime, utcnow


class OutboxEvent(Base):
    """A domain event waiting for (or done with) delivery; `id` is its stable event id."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(64), index=True)
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
