"""Catalog I/O."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from reference_service.money import MAX_AMOUNT, Money
from reference_service.validation import Name, ShortText, WholeNumber

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Stock = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000), WholeNumber]


class Price(Money):
    """A product's price: at least one minor unit, since a gateway cannot charge nothing."""

    amount: Annotated[int, Strict(), Field(ge=1, le=MAX_AMOUNT), WholeNumber]


class ProductRead(BaseModel):
    """A product as shoppers see it; `available` is units in stock."""

    id: int
    sku: str
    name: str
    category: str
    description: str
    price: Money
    available: int


class ProductPage(BaseModel):
    """One page of products and the cursor for the next (null at the end)."""

    items: list[ProductRead]
    next_cursor: str | None


class ProductCreate(BaseModel):
    """A new product (admin)."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: Name
    category: Category
    price: Price
    stock: Stock = 0
    description: ShortText = ""


class ProductUpdate(BaseModel):
    """Changes to a product (admin); absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    category: Category | None = None
    price: Price | None = None
    description: ShortText | None = None
