"""Cart I/O."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from reference_service.money import Money
from reference_service.validation import Quantity


class CartLineSet(BaseModel):
    """How many of a product the cart should hold."""

    model_config = ConfigDict(extra="forbid")

    quantity: Quantity


class CartLineRead(BaseModel):
    """One line with the current price."""

    product_id: int
    name: str
    quantity: int
    unit_price: Money
    line_total: Annotated[
        Money | None,
        Field(description="Null when price times quantity is beyond the money range."),
    ]


class CartRead(BaseModel):
    """The caller's cart, priced now. Prices can change after a line was added, so a cart may
    hold what checkout would refuse: `checkout_problem` names why, and `total` is then null
    rather than one figure that would be wrong."""

    items: list[CartLineRead]
    total: Annotated[
        Money | None,
        Field(
            description="Null when the lines are in more than one currency or their sum "
            "is beyond the money range."
        ),
    ]
    item_count: int
    checkout_problem: Annotated[
        str | None,
        Field(
            description="The problem type checkout would answer because of the cart's "
            "prices (mixed-currency, amount-out-of-range); null when they allow it."
        ),
    ]
