"""Reconcile the gateways' ledgers with the service's orders: a pure function, no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from assay.ledger.models import (
    SUCCEEDED,
    GatewayLedger,
    LedgerCharge,
    LedgerReport,
    Mismatch,
    MismatchKind,
    ServiceOrder,
)


@dataclass
class _Capture:
    gateway: str
    charge: LedgerCharge
    refunded: int = 0

    @property
    def net(self) -> int:
        return max(self.charge.amount - self.refunded, 0)


@dataclass
class _Findings:
    now: datetime
    window_s: float
    faults_cleared_at: datetime | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    unsettled: list[Mismatch] = field(default_factory=list)

    def add(self, finding: Mismatch, since: datetime | None = None) -> None:
        """A mismatch; unsettled instead while `since` is inside the window."""
        inside = since is not None and (self.now - since).total_seconds() < self.window_s
        (self.unsettled if inside else self.mismatches).append(finding)

    def add_compensation(self, finding: Mismatch, since: datetime) -> None:
        """A capture the service owes back: its window starts no earlier than the moment the
        gateways stopped refusing lookups and refunds, since no service can refund before."""
        cleared = self.faults_cleared_at
        self.add(finding, since if cleared is None else max(since, cleared))


def _money(amount: int, currency: str) -> str:
    return f"{amount} {currency}"


def _captures(ledgers: Mapping[str, GatewayLedger], found: _Findings) -> list[_Capture]:
    """Every capture with what was refunded of it; refunds that break an invariant are found."""
    captures: list[_Capture] = []
    for name, ledger in ledgers.items():
        by_id = {c.id: _Capture(name, c) for c in ledger.charges if c.status == SUCCEEDED}
        for refund in (r for r in ledger.refunds if r.status == SUCCEEDED):
            capture = by_id.get(refund.charge_id)
            if capture is None:
                found.add(
                    Mismatch(
                        MismatchKind.REFUND_WITHOUT_CAPTURE,
                        f"refund {refund.id} of {refund.amount} names charge "
                        f"{refund.charge_id}, which {name} never captured",
                        gateway=name,
                        key=refund.key,
                    )
                )
                continue
            capture.refunded += refund.amount
        for capture in by_id.values():
            if capture.refunded > capture.charge.amount:
                found.add(
                    Mismatch(
                        MismatchKind.REFUND_EXCEEDS_CAPTURE,
                        f"{capture.refunded} refunded of a {capture.charge.amount} capture "
                        f"{capture.charge.id}",
                        gateway=name,
                        key=capture.charge.key,
                    )
                )
        captures.extend(by_id.values())
    return captures


def _judge_order(order: ServiceOrder, live: list[_Capture], found: _Findings) -> None:
    """One order against its live (not fully refunded) captures across every gateway."""
    if order.status == "pending_payment":
        if live:
            found.unsettled.append(
                Mismatch(
                    MismatchKind.ORDER_PENDING,
                    f"order still pending with {len(live)} capture(s)",
                    gateway=live[0].gateway,
                    key=order.charge_key,
                    order_id=order.id,
                )
            )
        return
    if order.status != "confirmed":
        for capture in live:
            found.add_compensation(
                Mismatch(
                    MismatchKind.CAPTURE_NOT_REFUNDED,
                    f"{order.status} order keeps {_money(capture.net, capture.charge.currency)}"
                    f" captured ({capture.charge.id})",
                    gateway=capture.gateway,
                    key=order.charge_key,
                    order_id=order.id,
                ),
                since=max(capture.charge.at, order.updated_at),
            )
        return
    if not live:
        found.add(
            Mismatch(
                MismatchKind.CONFIRMED_WITHOUT_CAPTURE,
                f"confirmed order for {_money(order.total.amount, order.total.currency)} "
                "has no capture at any gateway",
                key=order.charge_key,
                order_id=order.id,
            ),
            since=order.updated_at,
        )
        return
    # The capture the service recorded is the order's own; any other one is extra.
    live.sort(key=lambda c: (c.charge.id != order.charge_ref, c.charge.at))
    own, extra = live[0], live[1:]
    if own.net != order.total.amount or own.charge.currency != order.total.currency:
        found.add(
            Mismatch(
                MismatchKind.AMOUNT_MISMATCH,
                f"order total {_money(order.total.amount, order.total.currency)}, captured "
                f"{_money(own.net, own.charge.currency)} ({own.charge.id})",
                gateway=own.gateway,
                key=order.charge_key,
                order_id=order.id,
            )
        )
    for capture in extra:
        found.add(
            Mismatch(
                MismatchKind.DOUBLE_CAPTURE,
                f"second capture {capture.charge.id} at {capture.gateway} "
                f"({_money(capture.net, capture.charge.currency)}) beside "
                f"{own.charge.id} at {own.gateway}",
                gateway=capture.gateway,
                key=order.charge_key,
                order_id=order.id,
            ),
            since=capture.charge.at,
        )


def _sum_by_currency(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for currency, amount in pairs:
        sums[currency] += amount
    return dict(sorted(sums.items()))


def reconcile(
    ledgers: Mapping[str, GatewayLedger],
    orders: list[ServiceOrder],
    *,
    now: datetime,
    window_s: float,
    faults_cleared_at: datetime | None = None,
) -> LedgerReport:
    """Judge the gateways' ledgers against the service's orders (pure: no I/O, no clock).

    `faults_cleared_at`: when the caller last turned off faults that make a gateway refuse
    lookups or refunds. A failed or cancelled order's capture is owed back within the window
    from then at the earliest; every other finding keeps its own clock.
    """
    found = _Findings(now=now, window_s=window_s, faults_cleared_at=faults_cleared_at)
    captures = _captures(ledgers, found)
    by_key: dict[str, list[_Capture]] = defaultdict(list)
    for capture in captures:
        by_key[capture.charge.key].append(capture)
    for order in orders:
        live = [c for c in by_key.pop(order.charge_key, []) if c.net > 0]
        _judge_order(order, live, found)
    for key, orphans in sorted(by_key.items()):
        for capture in (c for c in orphans if c.net > 0):
            found.add(
                Mismatch(
                    MismatchKind.CAPTURE_WITHOUT_ORDER,
                    f"capture {capture.charge.id} of "
                    f"{_money(capture.net, capture.charge.currency)} belongs to no order",
                    gateway=capture.gateway,
                    key=key,
                ),
                since=capture.charge.at,
            )
    currency = {(c.gateway, c.charge.id): c.charge.currency for c in captures}
    refunds = [
        (name, r) for name, led in ledgers.items() for r in led.refunds if r.status == SUCCEEDED
    ]
    return LedgerReport(
        charges=sum(len(led.charges) for led in ledgers.values()),
        captures=len(captures),
        refunds=len(refunds),
        captured_amount=_sum_by_currency((c.charge.currency, c.charge.amount) for c in captures),
        refunded_amount=_sum_by_currency(
            (currency.get((name, r.charge_id), "?"), r.amount) for name, r in refunds
        ),
        orders=len(orders),
        confirmed_orders=sum(o.status == "confirmed" for o in orders),
        window_s=window_s,
        checked_at=now,
        gateways={
            name: {
                "charges": len(led.charges),
                "captures": sum(c.status == SUCCEEDED for c in led.charges),
                "refunds": sum(r.status == SUCCEEDED for r in led.refunds),
            }
            for name, led in sorted(ledgers.items())
        },
        mismatches=tuple(found.mismatches),
        unsettled=tuple(found.unsettled),
    )


def only_orders(
    ledgers: Mapping[str, GatewayLedger], orders: list[ServiceOrder]
) -> dict[str, GatewayLedger]:
    """The ledgers cut down to the entries of `orders` (their charge keys and those charges'
    refunds): one scenario's money among other scenarios' traffic."""
    keys = {o.charge_key for o in orders}
    cut: dict[str, GatewayLedger] = {}
    for name, ledger in ledgers.items():
        charges = [c for c in ledger.charges if c.key in keys]
        ids = {c.id for c in charges}
        refund_keys = {o.refund_key for o in orders if o.refund_key}
        refunds = [r for r in ledger.refunds if r.charge_id in ids or r.key in refund_keys]
        cut[name] = GatewayLedger(gateway=ledger.gateway, charges=charges, refunds=refunds)
    return cut
