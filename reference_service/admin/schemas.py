"""Admin I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from reference_service.catalog.schemas import Stock
from reference_service.money import Money


class StockSet(BaseModel):
    """Units on hand to set."""

    model_config = ConfigDict(extra="forbid")

    stock: Stock


class StockRead(BaseModel):
    """Units on hand for a product."""

    product_id: int
    stock: int


class AuditEntryRead(BaseModel):
    """One entry of the hash-chained audit log."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """Audit entries in sequence order."""

    items: list[AuditEntryRead]
    next_after: int | None


class AuditVerification(BaseModel):
    """Whether the chain is intact, and where it first breaks."""

    valid: bool
    entries: int
    first_broken_seq: int | None


class AuditHead(BaseModel):
    """The chain's newest entry: what an evidence pack anchors."""

    sequence: int
    hash: str


class FlagRead(BaseModel):
    """A feature flag's live value and what it may hold."""

    name: str
    value: bool | int | float
    default: bool | int | float
    type: str
    description: str
    updated_at: datetime | None
    updated_by: str | None


class FlagSet(BaseModel):
    """A new value for a flag (its type is checked against the definition)."""

    model_config = ConfigDict(extra="forbid")

    value: bool | int | float


class EventRead(BaseModel):
    """An outbox event and whether it was delivered."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: uuid.UUID
    type: str
    aggregate_id: str
    payload: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    attempts: int


class EventPage(BaseModel):
    """Events after a sequence number."""

    items: list[EventRead]
    next_after: int | None


class AdminOrderRead(BaseModel):
    """Any customer's order, with the idempotency keys of its charge and refund at the
    gateways (so their ledgers can be joined to orders without knowing the key format)."""

    id: uuid.UUID
    user_id: uuid.UUID
    status: str
    total: Money
    payment_status: str
    payment_provider: str | None
    charge_ref: str | None
    charge_key: str
    refund_key: str
    created_at: datetime
    updated_at: datetime


class AdminOrderPage(BaseModel):
    """Orders oldest first, and the cursor of the next page (null at the end)."""

    items: list[AdminOrderRead]
    next_cursor: str | None
