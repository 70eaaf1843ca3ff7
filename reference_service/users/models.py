"""User accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from reference_service.db import Base, UtcDateTime, utcnow


class Role(StrEnum):
    """What a user may do."""

    CUSTOMER = "customer"
    ADMIN = "admin"


class User(Base):
    """A registered user; emails are stored lower-cased and unique."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.CUSTOMER)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
