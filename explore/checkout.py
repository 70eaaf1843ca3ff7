"""The checkout steps of an exploration: orders, retries of a key, cancellations, each
checked against the model and against what the gateways' ledgers recorded meanwhile."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from explore.api import Answer, Shop
from explore.faults import FaultState
from explore.model import Attempt, Model, Order, require

TOKENS = ("tok_visa", "tok_decline")
RATE_LIMITED = 429  # a remote target's limits: nothing happened, the model stays as it was
NOTHING_CHARGED = "nothing was charged"


def problem(answer: Answer) -> str:
    """An answer, short enough for a violation's message."""
    return f"{answer.status} {str(answer.body)[:300]}"


class CheckoutSteps:
    """Checkout, retry and cancel, for `Explorer` (which holds the state declared here)."""

    shop: Shop
    faults: FaultState
    model: Model
    checked: Counter[str]
    answers: Counter[str]
    run_token: str

    def _ledger_marks(self) -> dict[str, tuple[set[str], set[str]]]:
        marks = {}
        for gateway in self.shop.gateways():
            ledger = self.shop.ledger(gateway)
            marks[gateway] = (
                {c["id"] for c in ledger.get("charges", [])},
                {r["id"] for r in ledger.get("refunds", [])},
            )
        return marks

    def _new_entries(
        self, before: dict[str, tuple[set[str], set[str]]]
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
        """Captures and refunds (succeeded) each gateway recorded since `before`."""
        captures, refunds = [], []
        for gateway, (charges_before, refunds_before) in before.items():
            ledger = self.shop.ledger(gateway)
            for charge in ledger.get("charges", []):
                if charge["id"] not in charges_before and charge["status"] == "succeeded":
                    captures.append((gateway, charge))
            for refund in ledger.get("refunds", []):
                if refund["id"] not in refunds_before and refund["status"] == "succeeded":
                    refunds.append((gateway, refund))
        return captures, refunds

    def _restock(self, order: Order) -> None:
        order.status, order.settling = "cancelled", False
        for index, quantity in order.lines.items():
            self.model.products[index].stock += quantity

    def do_checkout_cart(self, customer: int, token: str) -> None:
        """Check out the customer's cart with a fresh Idempotency-Key."""
        body = {"payment": {"token": token}}
        self._checkout(customer, self._key(), body, list(self.model.carts[customer].items()))

    def do_checkout_items(self, customer: int, items: list[list[int]], token: str) -> None:
        """Check out explicit lines (a product may repeat) with a fresh Idempotency-Key."""
        body = {
            "items": [{"product_id": self.model.products[i].id, "quantity": q} for i, q in items],
            "payment": {"token": token},
        }
        self._checkout(customer, self._key(), body, [(i, q) for i, q in items])

    def do_retry(self, attempt: int, same_body: bool) -> None:
        """Send an earlier checkout's Idempotency-Key again, with its body or another one."""
        earlier = self.model.attempts[attempt]
        body = dict(earlier.body)
        if not same_body:
            other = TOKENS[1 - TOKENS.index(body["payment"]["token"])]
            body["payment"] = {"token": other}
        self.checked["explore::idempotency"] += 1
        if earlier.stored:
            self._replay(earlier, body, same_body)
            return
        lines = self._lines_of(earlier.customer, body)
        self._checkout(earlier.customer, earlier.key, body, lines, retried=earlier)

    def _lines_shown(self, answer: Answer) -> dict[int, int]:
        """A cart's or order's lines as product index -> quantity (-1: not the run's)."""
        by_id = {p.id: i for i, p in enumerate(self.model.products)}
        items = answer.field("items") or []
        return {by_id.get(line["product_id"], -1): line["quantity"] for line in items}

    def _key(self) -> str:
        return f"explore-{self.run_token}-{len(self.model.attempts)}"

    def _lines_of(self, customer: int, body: dict[str, Any]) -> list[tuple[int, int]]:
        if "items" not in body:
            return list(self.model.carts[customer].items())
        by_id = {p.id: i for i, p in enumerate(self.model.products)}
        return [(by_id[line["product_id"]], line["quantity"]) for line in body["items"]]

    def _replay(self, earlier: Attempt, body: dict[str, Any], same_body: bool) -> None:
        marks = self._ledger_marks()
        answer = self.shop.checkout(self.model.customers[earlier.customer], earlier.key, body)
        self.answers[f"replay {answer.status}"] += 1
        if answer.status == RATE_LIMITED:
            return
        if not same_body:
            require(
                answer.status == 409,
                "explore::idempotency",
                f"key {earlier.key} with another body: expected 409, got {problem(answer)}",
            )
        else:
            require(
                answer.status == earlier.status
                and answer.field("id" if earlier.status == 201 else "order_id") == earlier.order_id,
                "explore::idempotency",
                f"replay of {earlier.key} ({earlier.status}, order {earlier.order_id}) "
                f"answered {problem(answer)}",
            )
            require(
                answer.headers.get("Idempotent-Replayed") == "true",
                "explore::idempotency",
                f"replay of {earlier.key} lacks Idempotent-Replayed: true",
            )
        captures, _ = self._new_entries(marks)
        require(
            not captures,
            "explore::one-capture",
            f"a replay of {earlier.key} captured again: {captures}",
        )

    def _checkout(
        self,
        customer: int,
        key: str,
        body: dict[str, Any],
        lines: list[tuple[int, int]],
        *,
        retried: Attempt | None = None,
    ) -> None:
        """Check out; a retry of a key the target released updates that attempt in place."""
        attempt = retried or Attempt(customer, key, body, RATE_LIMITED)
        if retried is None:
            self.model.attempts.append(attempt)
        refusals = self.model.refusals(lines)
        merged = self.model.merged(lines)
        repeated = len(merged) < len(lines)
        marks = self._ledger_marks()
        started = time.monotonic()
        answer = self.shop.checkout(self.model.customers[customer], key, body)
        attempt.body, attempt.status = body, answer.status
        self.answers[f"checkout {answer.status}"] += 1
        if answer.status == RATE_LIMITED:
            return
        self.checked["explore::answers"] += 1
        token = body["payment"]["token"]
        if refusals:
            allowed = refusals
        else:
            paid = 201 if token == TOKENS[0] else 402
            allowed = {paid, 503} | ({409} if repeated else set())
        require(
            answer.status in allowed,
            "explore::answers",
            f"checkout of {dict(merged)} ({token}) answered {problem(answer)}; "
            f"expected one of {sorted(allowed)}",
        )
        captures, _ = self._new_entries(marks)
        attempt.order_id = answer.field("id") if answer.status == 201 else answer.field("order_id")
        if answer.status == 201:
            self._confirmed(customer, body, merged, answer, captures)
            return
        self.checked["explore::refusals"] += 1
        if answer.status == 503:
            self._unavailable(answer, captures, time.monotonic() - started)
            return
        require(
            not captures,
            "explore::refusals",
            f"a checkout answered {answer.status} and captured {captures}",
        )

    def _unavailable(
        self, answer: Answer, captures: list[tuple[str, dict[str, Any]]], took_s: float
    ) -> None:
        """A 503: nothing held; at most one (uncertain) capture, and then the answer says so."""
        require(
            len(captures) <= 1,
            "explore::one-capture",
            f"a 503 checkout left {len(captures)} captures: {captures}",
        )
        detail = str(answer.field("detail") or "").lower()
        require(
            not captures or NOTHING_CHARGED not in detail,
            "explore::refusals",
            f"a 503 says {answer.field('detail')!r} while {captures[0][0] if captures else ''} "
            "holds a capture for it",
        )
        require(
            self.faults.may_fail(),
            "explore::answers",
            f"checkout answered 503 after {took_s:.1f} s with no fault on for "
            f"{self.faults.quiet_s():.0f} s: {problem(answer)}",
        )

    def _confirmed(
        self,
        customer: int,
        body: dict[str, Any],
        merged: dict[int, int],
        answer: Answer,
        captures: list[tuple[str, dict[str, Any]]],
    ) -> None:
        total, currencies, _ = self.model.price(merged)
        currency = next(iter(currencies))
        self.checked["explore::totals"] += 1
        want = {"amount": total, "currency": currency}
        require(
            answer.field("total") == want and answer.field("status") == "confirmed",
            "explore::totals",
            f"order of {dict(merged)} is {answer.field('status')} for {answer.field('total')}, "
            f"the model prices it {want}",
        )
        lines = self._lines_shown(answer)
        require(lines == merged, "explore::totals", f"order lines {lines}, model {merged}")
        order = Order(str(answer.field("id")), customer, merged, total, currency)
        if self.shop.gateways():
            self.checked["explore::one-capture"] += 1
            taken = ", ".join(
                f"{c['id']} at {g} ({c['amount']} {c['currency']})" for g, c in captures
            )
            require(
                len(captures) == 1,
                "explore::one-capture",
                f"double capture: one confirmed checkout of {total} {currency} captured "
                f"{len(captures)} times: {taken or 'nothing'}",
            )
            gateway, charge = captures[0]
            require(
                (charge["amount"], charge["currency"]) == (total, currency),
                "explore::one-capture",
                f"order of {total} {currency} captured {charge['amount']} {charge['currency']}",
            )
            order.capture = (gateway, charge["id"])
        for index, quantity in merged.items():
            self.model.products[index].stock -= quantity
        if "items" not in body:
            cart = self.model.carts[customer]
            for index, quantity in merged.items():
                if cart.get(index) == quantity:
                    del cart[index]
        self.model.orders.append(order)

    # -- cancellation ---------------------------------------------------------------------
    def do_cancel(self, attempt: int) -> None:
        """Cancel the order a checkout made: a confirmed one is refunded and restocked; a
        cancelled or failed (declined) one is a 409. A checkout that made none is skipped."""
        made = self.model.attempts[attempt]
        if made.order_id is None:
            return
        placed = next((o for o in self.model.orders if o.id == made.order_id), None)
        marks = self._ledger_marks()
        answer = self.shop.cancel(self.model.customers[made.customer], made.order_id)
        self.answers[f"cancel {answer.status}"] += 1
        if answer.status == RATE_LIMITED:
            return
        self.checked["explore::cancellation"] += 1
        status = placed.status if placed else "failed"
        allowed = {200, 503} if status == "confirmed" else {409}
        if placed is not None and placed.settling:
            allowed = {200, 409, 503}  # still settling, or settled meanwhile
        require(
            answer.status in allowed,
            "explore::cancellation",
            f"cancel of a {status} order answered {problem(answer)}",
        )
        _, refunds = self._new_entries(marks)
        own: list[dict[str, Any]] = []
        if placed is not None and placed.capture is not None:
            gateway, charge_id = placed.capture
            own = [r for g, r in refunds if g == gateway and r["charge_id"] == charge_id]
        if placed is None or answer.status != 200:
            require(
                not own or (placed is not None and placed.settling),
                "explore::cancellation",
                f"cancel answered {answer.status} yet refunded the order's capture: {own}",
            )
            if placed is not None and answer.status == 503:
                placed.settling = True
            return
        require(
            answer.field("status") == "cancelled",
            "explore::cancellation",
            f"a cancelled order reads {answer.field('status')}",
        )
        if placed.capture is not None and not placed.settling:
            require(
                len(own) == 1 and own[0]["amount"] == placed.total,
                "explore::cancellation",
                f"cancel of {placed.total} {placed.currency} refunded {own} "
                f"(capture {placed.capture[1]} at {placed.capture[0]})",
            )
        self._restock(placed)
