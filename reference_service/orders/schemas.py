"""Order I/O. Prices, totals and status are the server's: clients cannot send them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from reference_service.money import Money
from reference_service.payments.schemas import PaymentRequest, PaymentSummary
from reference_service.validation import ProductId, Quantity


class OrderLineIn(BaseModel):
    """A product and quantity to buy; any price field is rejected."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductId
    quantity: Quantity


class OrderCreate(BaseModel):
    """Checkout: explicit lines, or the cart when `items` is absent."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)] | None = None
    payment: PaymentRequest


class OrderLineRead(BaseModel):
    """A line as charged."""

    product_id: int
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class OrderRead(BaseModel):
    """An order as its owner sees it."""

    id: uuid.UUID
    status: str
    items: list[OrderLineRead]
    total: Money
    payment: PaymentSummary
    created_at: datetime


class OrderList(BaseModel):
    """The caller's orders, newest first."""

    items: list[OrderRead]
