"""Every charge and refund attempt, kept for reconciliation and audit."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from reference_service.db import Base, UtcDateTime, utcnow


class PaymentKind(StrEnum):
    """Money in or back out."""

    CHARGE = "charge"
    REFUND = "refund"


class PaymentStatus(StrEnum):
    """How an attempt ended."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"


class PaymentAttempt(Base):
    """One call (or reconciled call) to a gateway for an order."""

    __tablename__ = "payment_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(32))
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
