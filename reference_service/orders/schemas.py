"""Order I/O. Prices, totals and status are the server's: clients cannot send them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from reference_service.money import Money
from reference_service.payments.schemas import PaymentRequest, PaymentSummary
from reference_service.validation import ProductId, Quantity


class OrderLineIn(BaseModel):
    """A product and quantity to buy; any price field is rejected."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductId
    quantity: Quantity


MAX_ORDER_LINES = 100


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # `null` is not a value `items` may take


class OrderCreate(BaseModel):
    """Checkout: explicit lines, or the cart when `items` is absent."""

    model_config = ConfigDict(extra="forbid")

    # Absent means "the cart"; present, it is 1 to 100 lines. `null` is neither: the contract
    # says the field, when sent, is an array, so the model refuses `null` too (a default is not
    # validated, so leaving the field out still gives None).
    items: (
        Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
        | SkipJsonSchema[None]
    ) = Field(default=None, json_schema_extra=_no_default)
    payment: PaymentRequest

    @field_validator("items", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("send an array of lines, or leave `items` out to order the cart")
        return value


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
