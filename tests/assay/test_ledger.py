"""The money reconciliation: every invariant, broken and kept, over plain ledger and order data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from assay.ledger import (
    GatewayLedger,
    LedgerCharge,
    LedgerRefund,
    LedgerReport,
    MismatchKind,
    Money,
    ServiceOrder,
    only_orders,
    reconcile,
)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
WINDOW_S = 30.0
LONG_AGO = NOW - timedelta(minutes=10)
JUST_NOW = NOW - timedelta(seconds=5)
_ids = itertools.count(1)


def charge(
    key: str, amount: int = 3000, *, at: datetime = LONG_AGO, status: str = "succeeded"
) -> LedgerCharge:
    """A charge recorded by a gateway."""
    return LedgerCharge(
        key=key, id=f"ch_{next(_ids)}", amount=amount, currency="USD", status=status, at=at
    )


def refund(of: LedgerCharge, amount: int | None = None, *, at: datetime = LONG_AGO) -> LedgerRefund:
    """A succeeded refund of (part of) a charge."""
    return LedgerRefund(
        key=f"{of.key}-refund",
        id=f"re_{next(_ids)}",
        charge_id=of.id,
        amount=of.amount if amount is None else amount,
        status="succeeded",
        at=at,
    )


def ledger(
    name: str, charges: list[LedgerCharge], refunds: list[LedgerRefund] | None = None
) -> GatewayLedger:
    """One gateway's ledger."""
    return GatewayLedger(gateway=name, charges=charges, refunds=refunds or [])


def order(
    key: str,
    status: str = "confirmed",
    amount: int = 3000,
    *,
    currency: str = "USD",
    charge_ref: str | None = None,
    updated_at: datetime = LONG_AGO,
) -> ServiceOrder:
    """An order in the service's admin view, with `key` as its gateway charge key."""
    return ServiceOrder(
        id=f"order-{key}",
        user_id="user-1",
        status=status,
        total=Money(amount=amount, currency=currency),
        payment_status="captured" if status == "confirmed" else "failed",
        payment_provider="primary",
        charge_ref=charge_ref,
        charge_key=key,
        refund_key=f"{key}-refund",
        created_at=LONG_AGO,
        updated_at=updated_at,
    )


def check(
    ledgers: list[GatewayLedger], orders: list[ServiceOrder]
) -> tuple[LedgerReport, list[MismatchKind], list[MismatchKind]]:
    """The report with the kinds of its mismatches and of what is unsettled."""
    report = reconcile({led.gateway: led for led in ledgers}, orders, now=NOW, window_s=WINDOW_S)
    return (
        report,
        [m.kind for m in report.mismatches],
        [m.kind for m in report.unsettled],
    )


def test_one_capture_per_confirmed_order_holds_and_is_counted() -> None:
    paid = charge("k1")
    declined = charge("k2", status="failed")
    report, mismatches, unsettled = check(
        [ledger("primary", [paid, declined]), ledger("fallback", [])],
        [order("k1", charge_ref=paid.id), order("k2", "failed")],
    )
    assert (mismatches, unsettled) == ([], [])
    assert report.held
    figures = report.to_dict()
    assert figures["charges"] == 2
    assert figures["captures"] == 1
    assert figures["refunds"] == 0
    assert figures["captured_amount"] == {"USD": 3000}
    assert figures["confirmed_orders"] == 1
    assert figures["gateways"]["primary"] == {"charges": 2, "captures": 1, "refunds": 0}


def test_a_double_capture_across_two_gateways_is_a_mismatch() -> None:
    first, second = charge("k1"), charge("k1")
    report, mismatches, _ = check(
        [ledger("primary", [first]), ledger("fallback", [second])],
        [order("k1", charge_ref=second.id)],
    )
    assert mismatches == [MismatchKind.DOUBLE_CAPTURE]
    assert report.mismatches[0].gateway == "primary", "the capture the service did not record"
    assert report.mismatches[0].order_id == "order-k1"
    assert not report.held


def test_a_second_capture_refunded_in_full_is_fine() -> None:
    first, second = charge("k1"), charge("k1")
    report, mismatches, unsettled = check(
        [ledger("primary", [first], [refund(first)]), ledger("fallback", [second])],
        [order("k1", charge_ref=second.id)],
    )
    assert (mismatches, unsettled) == ([], [])
    assert report.to_dict()["refunded_amount"] == {"USD": 3000}


def test_a_capture_with_no_order_is_a_mismatch_once_the_window_passed() -> None:
    _, mismatches, _ = check([ledger("primary", [charge("stray")])], [])
    assert mismatches == [MismatchKind.CAPTURE_WITHOUT_ORDER]


def test_a_fresh_capture_with_no_order_is_unsettled() -> None:
    report, mismatches, unsettled = check([ledger("primary", [charge("stray", at=JUST_NOW)])], [])
    assert (mismatches, unsettled) == ([], [MismatchKind.CAPTURE_WITHOUT_ORDER])
    assert not report.held
    assert not report.settled


def test_a_refund_with_no_capture_is_a_mismatch() -> None:
    declined = charge("k1", status="failed")
    _, mismatches, _ = check(
        [ledger("primary", [declined], [refund(declined)])], [order("k1", "failed")]
    )
    assert mismatches == [MismatchKind.REFUND_WITHOUT_CAPTURE]


def test_a_refund_of_a_capture_at_another_gateway_is_a_mismatch() -> None:
    paid = charge("k1")
    _, mismatches, _ = check(
        [ledger("primary", [paid]), ledger("fallback", [], [refund(paid)])],
        [order("k1", charge_ref=paid.id)],
    )
    assert mismatches == [MismatchKind.REFUND_WITHOUT_CAPTURE]


def test_a_refund_larger_than_its_capture_is_a_mismatch() -> None:
    paid = charge("k1")
    _, mismatches, _ = check(
        [ledger("primary", [paid], [refund(paid, 2000), refund(paid, 2000)])],
        [order("k1", "cancelled")],
    )
    assert mismatches == [MismatchKind.REFUND_EXCEEDS_CAPTURE]


def test_refunds_that_add_up_to_the_capture_are_fine() -> None:
    paid = charge("k1")
    _, mismatches, _ = check(
        [ledger("primary", [paid], [refund(paid, 1000), refund(paid, 2000)])],
        [order("k1", "cancelled")],
    )
    assert mismatches == []


def test_a_confirmed_order_without_a_capture_is_a_mismatch() -> None:
    _, mismatches, _ = check(
        [ledger("primary", [charge("k1", status="failed")]), ledger("fallback", [])],
        [order("k1")],
    )
    assert mismatches == [MismatchKind.CONFIRMED_WITHOUT_CAPTURE]


def test_a_confirmed_order_whose_capture_was_refunded_is_a_mismatch() -> None:
    paid = charge("k1")
    _, mismatches, _ = check([ledger("primary", [paid], [refund(paid)])], [order("k1")])
    assert mismatches == [MismatchKind.CONFIRMED_WITHOUT_CAPTURE]


def test_an_order_confirmed_after_the_ledger_was_read_is_unsettled() -> None:
    _, mismatches, unsettled = check([ledger("primary", [])], [order("k1", updated_at=JUST_NOW)])
    assert (mismatches, unsettled) == ([], [MismatchKind.CONFIRMED_WITHOUT_CAPTURE])


@pytest.mark.parametrize(
    ("captured", "currency"), [(2999, "USD"), (3000, "EUR")], ids=["amount", "currency"]
)
def test_a_capture_of_another_amount_is_a_mismatch(captured: int, currency: str) -> None:
    paid = charge("k1", captured)
    report, mismatches, _ = check(
        [ledger("primary", [paid])], [order("k1", amount=3000, currency=currency)]
    )
    assert mismatches == [MismatchKind.AMOUNT_MISMATCH]
    assert "3000" in report.mismatches[0].detail


def test_a_failed_order_keeping_a_capture_past_the_window_is_a_mismatch() -> None:
    report, mismatches, _ = check([ledger("primary", [charge("k1")])], [order("k1", "failed")])
    assert mismatches == [MismatchKind.CAPTURE_NOT_REFUNDED]
    assert report.mismatches[0].to_dict() == {
        "kind": "capture-not-refunded",
        "gateway": "primary",
        "key": "k1",
        "order_id": "order-k1",
        "detail": report.mismatches[0].detail,
    }


def test_a_failed_order_keeping_a_capture_inside_the_window_is_unsettled() -> None:
    _, mismatches, unsettled = check(
        [ledger("primary", [charge("k1")])], [order("k1", "failed", updated_at=JUST_NOW)]
    )
    assert (mismatches, unsettled) == ([], [MismatchKind.CAPTURE_NOT_REFUNDED])


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_capture_owed_back_is_judged_from_when_the_gateways_stopped_refusing(
    status: str,
) -> None:
    # Failed ten minutes ago while refunds failed; the faults were turned off 5 s ago: the
    # service has had 5 s, not ten minutes, to refund it.
    ledgers = {"primary": ledger("primary", [charge("k1")])}
    orders = [order("k1", status)]
    lately = reconcile(ledgers, orders, now=NOW, window_s=WINDOW_S, faults_cleared_at=JUST_NOW)
    assert [m.kind for m in lately.mismatches] == []
    assert [m.kind for m in lately.unsettled] == [MismatchKind.CAPTURE_NOT_REFUNDED]
    # Cleared long enough ago, the same capture is a mismatch again.
    long_since = reconcile(ledgers, orders, now=NOW, window_s=WINDOW_S, faults_cleared_at=LONG_AGO)
    assert [m.kind for m in long_since.mismatches] == [MismatchKind.CAPTURE_NOT_REFUNDED]


def test_cleared_faults_do_not_excuse_a_double_capture() -> None:
    # A second capture is not something a refund-refusing gateway kept the service from
    # fixing: its own clock still runs.
    paid, extra = charge("k1"), charge("k1")
    report = reconcile(
        {"primary": ledger("primary", [paid]), "fallback": ledger("fallback", [extra])},
        [order("k1", charge_ref=paid.id)],
        now=NOW,
        window_s=WINDOW_S,
        faults_cleared_at=JUST_NOW,
    )
    assert [m.kind for m in report.mismatches] == [MismatchKind.DOUBLE_CAPTURE]


def test_a_cancelled_order_refunded_in_full_is_fine() -> None:
    paid = charge("k1")
    report, mismatches, unsettled = check(
        [ledger("primary", [paid], [refund(paid)])], [order("k1", "cancelled")]
    )
    assert (mismatches, unsettled) == ([], [])
    assert report.held
    assert (report.captures, report.refunds) == (1, 1)


def test_a_pending_order_with_a_capture_is_unsettled_however_old() -> None:
    _, mismatches, unsettled = check(
        [ledger("primary", [charge("k1")])], [order("k1", "pending_payment")]
    )
    assert (mismatches, unsettled) == ([], [MismatchKind.ORDER_PENDING])


def test_only_orders_keeps_one_users_entries_and_their_refunds() -> None:
    mine, theirs = charge("mine"), charge("theirs")
    ledgers = {"primary": ledger("primary", [mine, theirs], [refund(mine), refund(theirs)])}
    cut = only_orders(ledgers, [order("mine", "cancelled")])
    assert [c.key for c in cut["primary"].charges] == ["mine"]
    assert [r.charge_id for r in cut["primary"].refunds] == [mine.id]


def test_the_headline_names_the_first_mismatches() -> None:
    report, _, _ = check([ledger("primary", [charge("stray")])], [])
    assert report.headline().startswith("ledgers 1 mismatches")
    assert "capture-without-order" in report.headline()
