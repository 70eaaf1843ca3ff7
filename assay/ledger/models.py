"""The two sides of a money reconciliation, as they come over the wire, and its report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

SUCCEEDED = "succeeded"


class MismatchKind(StrEnum):
    """Which invariant a ledger entry or an order breaks."""

    CAPTURE_WITHOUT_ORDER = "capture-without-order"
    DOUBLE_CAPTURE = "double-capture"
    AMOUNT_MISMATCH = "amount-mismatch"
    CONFIRMED_WITHOUT_CAPTURE = "confirmed-without-capture"
    CAPTURE_NOT_REFUNDED = "capture-not-refunded"
    REFUND_WITHOUT_CAPTURE = "refund-without-capture"
    REFUND_EXCEEDS_CAPTURE = "refund-exceeds-capture"
    ORDER_PENDING = "order-pending"


class _Wire(BaseModel):
    # Both sides may grow fields; the check reads only what it needs.
    model_config = ConfigDict(extra="ignore", frozen=True)


class LedgerCharge(_Wire):
    """A charge as the gateway recorded it (`succeeded` = a capture)."""

    key: str
    id: str
    amount: int
    currency: str
    status: str
    at: AwareDatetime


class LedgerRefund(_Wire):
    """A refund as the gateway recorded it."""

    key: str
    id: str
    charge_id: str
    amount: int
    status: str
    at: AwareDatetime


class GatewayLedger(_Wire):
    """Everything one gateway charged and refunded (`GET /ledger`)."""

    gateway: str
    charges: list[LedgerCharge] = []
    refunds: list[LedgerRefund] = []


class Money(_Wire):
    """Integer minor units and a currency code."""

    amount: int
    currency: str


class ServiceOrder(_Wire):
    """An order as the service's admin view reports it (`GET /admin/orders`)."""

    id: str
    user_id: str
    status: str
    total: Money
    payment_status: str | None = None
    payment_provider: str | None = None
    charge_ref: str | None = None
    charge_key: str
    refund_key: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


@dataclass(frozen=True)
class Mismatch:
    """One broken invariant (or, in `unsettled`, one the service may still settle)."""

    kind: MismatchKind
    detail: str
    gateway: str | None = None
    key: str | None = None
    order_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """As written into summary.json."""
        return {
            "kind": str(self.kind),
            "gateway": self.gateway,
            "key": self.key,
            "order_id": self.order_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class LedgerReport:
    """What the reconciliation found: figures, mismatches, and what is still unsettled."""

    charges: int
    captures: int
    refunds: int
    captured_amount: Mapping[str, int]
    refunded_amount: Mapping[str, int]
    orders: int
    confirmed_orders: int
    window_s: float
    checked_at: datetime
    gateways: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    mismatches: tuple[Mismatch, ...] = ()
    unsettled: tuple[Mismatch, ...] = ()

    @property
    def settled(self) -> bool:
        """Nothing is left for the service to settle."""
        return not self.unsettled

    @property
    def held(self) -> bool:
        """Every invariant held and nothing is left unsettled."""
        return not self.mismatches and not self.unsettled

    def headline(self) -> str:
        """One line for a check message or a log."""
        state = "held" if self.held else f"{len(self.mismatches)} mismatches"
        if self.unsettled:
            state += f", {len(self.unsettled)} unsettled"
        first = (self.mismatches or self.unsettled)[:3]
        named = "; ".join(f"{m.kind}: {m.detail}" for m in first)
        return (
            f"ledgers {state}: {self.captures} captures, {self.refunds} refunds at "
            f"{len(self.gateways)} gateways, {self.confirmed_orders} confirmed orders"
            + (f" ({named})" if named else "")
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as `metrics.ledger` of a summary.json."""
        return {
            "held": self.held,
            "settled": self.settled,
            "charges": self.charges,
            "captures": self.captures,
            "refunds": self.refunds,
            "captured_amount": dict(self.captured_amount),
            "refunded_amount": dict(self.refunded_amount),
            "orders": self.orders,
            "confirmed_orders": self.confirmed_orders,
            "window_s": self.window_s,
            "checked_at": self.checked_at.isoformat(),
            "gateways": {name: dict(figures) for name, figures in self.gateways.items()},
            "mismatches": [m.to_dict() for m in self.mismatches],
            "unsettled": [m.to_dict() for m in self.unsettled],
        }
