"""Money as integer minor units plus an ISO 4217 code, within one representable range."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from reference_service.errors import DomainError
from reference_service.validation import WholeNumber

# The largest amount the service stores, charges or shows, in minor units (100 million in
# major units). Prices, line totals and order totals all stay within 0..MAX_AMOUNT; the amount
# columns are 64-bit, so the database holds the whole range and any sum checked against it.
MAX_AMOUNT = 100_000_000_00

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT), WholeNumber]


class Money(BaseModel):
    """An amount in minor units (cents), never a float."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Amount
    currency: Currency = "USD"


class AmountOutOfRangeError(DomainError):
    """A line or total beyond MAX_AMOUNT: refused before any stock or payment is touched.

    409, not 422: the request is schema-valid; it is the catalog's stored prices that make the
    sum too large, a conflict with the service's state (ADR-015).
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            "amount-out-of-range",
            409,
            f"The {what} is beyond the largest amount the service handles ({MAX_AMOUNT} minor "
            "units).",
            title="Amount out of range",
            extra={"max_amount": MAX_AMOUNT},
        )


def in_range(amount: int) -> bool:
    """Whether an amount (a price, a line total, a sum) is one the service can charge."""
    return 0 <= amount <= MAX_AMOUNT


def total_of(lines: list[tuple[int, int]], what: str = "order total") -> int:
    """Sum of (unit amount, quantity) pairs; AmountOutOfRangeError past MAX_AMOUNT."""
    total = 0
    for unit_amount, quantity in lines:
        line_total = unit_amount * quantity
        if not in_range(line_total):
            raise AmountOutOfRangeError("line total")
        total += line_total
    if not in_range(total):
        raise AmountOutOfRangeError(what)
    return total
