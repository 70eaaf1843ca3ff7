"""Payment I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from reference_service.money import Money

PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_]{1,60}$")]


class PaymentRequest(BaseModel):
    """How the customer pays: a gateway token, never card data."""

    model_config = ConfigDict(extra="forbid")

    token: PaymentToken


class PaymentSummary(BaseModel):
    """The payment of an order as its owner sees it."""

    status: str
    amount: Money
    provider: str | None


class PaymentAttemptRead(BaseModel):
    """One charge or refund attempt (admin view)."""

    id: uuid.UUID
    kind: str
    status: str
    amount: int
    currency: str
    provider: str
    gateway_ref: str | None
    error_code: str | None
    created_at: datetime
