"""Admin I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from reference_service.catalog.schemas import Stock


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
