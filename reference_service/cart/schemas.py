"""Cart I/O."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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
    line_total: Money


class CartRead(BaseModel):
    """The caller's cart."""

    items: list[CartLineRead]
    total: Money
    item_count: int
