"""Admin I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, create_model

from reference_service.catalog.schemas import Stock
from reference_service.flags import FlagDefinition
from reference_service.money import Money
from reference_service.validation import WholeNumber


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


def flag_set_model(name: str, definition: FlagDefinition) -> type[BaseModel]:
    """The body of PUT /admin/flags/{name} for one flag: `value` typed and bounded as the flag's
    definition says, so the contract states what the service accepts (a bool flag takes only
    true/false, an int flag a whole number in range, a float flag any number in range)."""
    value_type: Any
    if definition.type == "bool":
        value_type = StrictBool
    elif definition.type == "int":
        value_type = Annotated[
            int, Strict(), Field(ge=definition.min, le=definition.max), WholeNumber
        ]
    else:
        value_type = Annotated[
            float, Strict(), Field(ge=definition.min, le=definition.max, allow_inf_nan=False)
        ]
    title = "".join(part.capitalize() for part in name.split("_"))
    model: type[BaseModel] = create_model(
        f"FlagSet{title}",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"A new value for {name}: {definition.description}",
        value=(value_type, ...),
    )
    return model


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


class EventHead(BaseModel):
    """The newest event's sequence (0 when there is none): where a reader starts from."""

    sequence: int


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
