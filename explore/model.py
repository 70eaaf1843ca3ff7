"""The model the exploration checks the target against: its own products, carts, orders and
Idempotency-Keys, and what each checkout may answer given them.

Products, customers and orders are referred to by their index in the model (the order they
were made in), never by the target's ids, so a recorded step sequence replays on any target.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_QUANTITY = 99  # per product and order, as the API documents for a line


@dataclass(frozen=True)
class CheckSpec:
    """A property the exploration checks, and the catalog requirements it verifies."""

    title: str
    requirements: tuple[str, ...]


CHECKS: dict[str, CheckSpec] = {
    "explore::stock": CheckSpec(
        "Stock of the run's own products follows the model: never negative, never oversold",
        ("REQ-INV-001",),
    ),
    "explore::totals": CheckSpec(
        "Every confirmed order is priced from the current prices times quantities",
        ("REQ-ORD-002", "REQ-ORD-005"),
    ),
    "explore::idempotency": CheckSpec(
        "A retried Idempotency-Key replays the same answer; another body with it is refused",
        ("REQ-ORD-001",),
    ),
    "explore::refusals": CheckSpec(
        "Declined, refused and unavailable checkouts hold no stock and keep no money",
        ("REQ-PAY-001", "REQ-PAY-002"),
    ),
    "explore::cart": CheckSpec(
        "The cart holds what was put in it, in one currency, with a total in the money range",
        ("REQ-CART-001",),
    ),
    "explore::cancellation": CheckSpec(
        "Cancelling a confirmed order restores its stock and refunds its capture once",
        ("REQ-ORD-004",),
    ),
    "explore::one-capture": CheckSpec(
        "Every confirmed checkout captured its total exactly once, at one gateway",
        ("REQ-PAY-003",),
    ),
    "explore::answers": CheckSpec(
        "Every answer is one the API documents for the state it was asked in",
        ("REQ-ORD-005", "REQ-PAY-002"),
    ),
}


class ViolationError(AssertionError):
    """The target disagreed with the model: `check` names the property that broke."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


def require(condition: bool, check: str, message: str) -> None:
    """Raise a ViolationError of `check` unless `condition` holds."""
    if not condition:
        raise ViolationError(check, message)


@dataclass
class Product:
    """One product the run created: target id, price and units on hand."""

    id: int
    price: int
    currency: str
    stock: int


@dataclass
class Order:
    """A confirmed (later perhaps cancelled) order and the capture that paid it."""

    id: str
    customer: int
    lines: dict[int, int]  # product index -> quantity
    total: int
    currency: str
    status: str = "confirmed"
    capture: tuple[str, str] | None = None  # (gateway, charge id), when ledgers are known
    # A cancel answered 503: the service may finish it later (refund, then restock).
    settling: bool = False


@dataclass
class Attempt:
    """One checkout request: its key and body, and what was answered (stored or not)."""

    customer: int
    key: str
    body: dict[str, Any]
    status: int
    order_id: str | None = None

    @property
    def stored(self) -> bool:
        """Whether the target keeps this answer for replays (completed requests only)."""
        return self.status in (201, 402)


@dataclass
class Model:
    """What the target should hold of everything the run made."""

    max_amount: int
    products: list[Product] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)  # tokens
    user_ids: list[str] = field(default_factory=list)
    carts: list[dict[int, int]] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def merged(self, lines: list[tuple[int, int]]) -> dict[int, int]:
        """Lines by product index, repeated products added up."""
        total: Counter[int] = Counter()
        for index, quantity in lines:
            total[index] += quantity
        return dict(total)

    def price(self, lines: dict[int, int]) -> tuple[int, set[str], bool]:
        """Total, currencies, and whether every line and the total are in the money range."""
        currencies = {self.products[i].currency for i in lines}
        line_totals = [self.products[i].price * q for i, q in lines.items()]
        total = sum(line_totals)
        in_range = total <= self.max_amount and all(t <= self.max_amount for t in line_totals)
        return total, currencies, in_range

    def refusals(self, lines: list[tuple[int, int]]) -> set[int]:
        """Statuses a checkout of `lines` must be refused with before any payment (empty
        when it must reach the gateway)."""
        merged = self.merged(lines)
        if not merged:
            # An empty cart is a 409 (empty-order); an empty `items` list fails the schema.
            return {409, 422}
        refused: set[int] = set()
        _, currencies, in_range = self.price(merged)
        # Repeated lines past 99 units, two currencies, a total beyond the money range: business
        # rules no schema can state, so 409 like out-of-stock (ADR-015), never 422.
        if any(q > MAX_QUANTITY for q in merged.values()) or len(currencies) > 1 or not in_range:
            refused.add(409)
        if any(q > self.products[i].stock for i, q in merged.items()):
            refused.add(409)
        return refused

    def cart_refusal(self, customer: int, product: int, quantity: int) -> bool:
        """Whether putting `quantity` of `product` in the cart must be refused (409: another
        currency or a total beyond the money range, business rules as at checkout)."""
        lines = {**self.carts[customer], product: quantity}
        others = {self.products[i].currency for i in lines if i != product}
        _, _, in_range = self.price(lines)
        return bool(others - {self.products[product].currency}) or not in_range

    def stock_snapshot(self) -> list[int]:
        """Every product's modelled stock (to compare before and after a step)."""
        return [p.stock for p in self.products]
