"""Money as integer minor units plus an ISO 4217 code."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from reference_service.validation import WholeNumber

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Money(BaseModel):
    """An amount in minor units (cents), never a float."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[int, Strict(), Field(ge=0, le=100_000_000_00), WholeNumber]
    currency: Currency = "USD"
