"""The steps of an exploration: each acts on the target, then checks it against the model.

A step is a name and JSON arguments (`Step`), so the sequence Hypothesis found can be saved
and replayed as a regression test. `Explorer.apply` runs one; every step method raises a
`ViolationError` naming the broken property when the target disagrees with the model.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from explore.api import Answer, Shop
from explore.faults import FaultState
from explore.model import Attempt, Model, Order, Product, ViolationError, require

Step = tuple[str, dict[str, Any]]
TOKENS = ("tok_visa", "tok_decline")
RATE_LIMITED = 429  # a remote target's limits: nothing happened, the model stays as it was
NOTHING_CHARGED = "nothing was charged"


def _problem(answer: Answer) -> str:
    return f"{answer.status} {str(answer.body)[:300]}"


class Explorer:
    """The model, the target, and the steps that keep them side by side."""

    def __init__(self, shop: Shop, faults: FaultState, *, max_amount: int) -> None:
        self.shop = shop
        self.faults = faults
        self.model = Model(max_amount=max_amount)
        self.journal: list[Step] = []
        self.checked: Counter[str] = Counter()
        self.answers: Counter[str] = Counter()  # "checkout 201" -> how often
        self.run_token = secrets.token_hex(4)

    # -- bookkeeping ----------------------------------------------------------------------
    def apply(self, name: str, /, **args: Any) -> None:
        """Run step `name` with `args`, journaled before it runs (a failing step is the last)."""
        self.journal.append((name, dict(args)))
        method: Callable[..., None] = getattr(self, f"do_{name}")
        method(**args)
        self.check_stock()

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

    def check_stock(self) -> None:
        """Every own product shows the modelled stock and price (never negative)."""
        for index, product in enumerate(self.model.products):
            self.checked["explore::stock"] += 1
            answer = self.shop.product(product.id)
            problem = f"product {index}: {_problem(answer)}"
            require(answer.status == 200, "explore::answers", problem)
            available = answer.field("available")
            require(
                isinstance(available, int) and available >= 0,
                "explore::stock",
                f"product {index} shows {available!r} units",
            )
            if available != product.stock:
                self._settled_cancel(index, available - product.stock)
            require(
                available == product.stock,
                "explore::stock",
                f"product {index} shows {available} units, the model holds {product.stock}",
            )

    def _settled_cancel(self, index: int, delta: int) -> None:
        """A cancel answered 503 that the service finished since: the order that restocked
        `delta` units of product `index` is cancelled now, its stock back."""
        for order in self.model.orders:
            if order.settling and order.lines.get(index) == delta:
                self._restock(order)
                return

    def _restock(self, order: Order) -> None:
        order.status, order.settling = "cancelled", False
        for index, quantity in order.lines.items():
            self.model.products[index].stock += quantity

    # -- customers and the catalog --------------------------------------------------------
    def do_register(self) -> None:
        """A new customer with an empty cart."""
        customer = self.shop.register()
        self.model.customers.append(customer.token)
        self.model.user_ids.append(customer.user_id)
        self.model.carts.append({})

    def do_create_product(self, price: int, currency: str, stock: int) -> None:
        """A product of the run's own (the only stock it ever consumes)."""
        product_id = self.shop.create_product(price, currency, stock)
        self.model.products.append(Product(product_id, price, currency, stock))

    def do_set_price(self, product: int, price: int, currency: str) -> None:
        """An admin's price change (any amount the contract accepts)."""
        answer = self.shop.set_price(self.model.products[product].id, price, currency)
        require(answer.status == 200, "explore::answers", f"set price: {_problem(answer)}")
        self.model.products[product].price = price
        self.model.products[product].currency = currency

    def do_set_stock(self, product: int, stock: int) -> None:
        """An admin's stock count."""
        answer = self.shop.set_stock(self.model.products[product].id, stock)
        require(answer.status == 200, "explore::answers", f"set stock: {_problem(answer)}")
        self.model.products[product].stock = stock

    # -- faults ---------------------------------------------------------------------------
    def do_set_flag(self, name: str, value: bool | int | float) -> None:
        """A fault flag of the service (payment latency, errors, a gateway down)."""
        self.shop.set_flag(name, value)
        self.faults.flag(name, value)

    def do_gateway_faults(self, gateway: str, scenario: str) -> None:
        """A gateway's own fault knobs, from a named ambiguous window."""
        self.faults.gateway(self.shop, gateway, scenario)

    # -- cart -----------------------------------------------------------------------------
    def do_cart_set(self, customer: int, product: int, quantity: int) -> None:
        """Put `quantity` of a product in a customer's cart (add or change a line)."""
        token = self.model.customers[customer]
        answer = self.shop.set_line(token, self.model.products[product].id, quantity)
        if answer.status == RATE_LIMITED:
            return
        refused = self.model.cart_refusal(customer, product, quantity)
        self.checked["explore::cart"] += 1
        expected = 409 if refused else 200
        require(
            answer.status == expected,
            "explore::cart",
            f"cart line {product} x{quantity}: expected {expected}, got {_problem(answer)}",
        )
        if not refused:
            self.model.carts[customer][product] = quantity
        self.check_cart(customer)

    def do_cart_remove(self, customer: int, product: int) -> None:
        """Take a product out of a customer's cart (404 when it was not there)."""
        token = self.model.customers[customer]
        answer = self.shop.remove_line(token, self.model.products[product].id)
        if answer.status == RATE_LIMITED:
            return
        present = product in self.model.carts[customer]
        expected = 200 if present else 404
        require(
            answer.status == expected,
            "explore::cart",
            f"remove line {product}: expected {expected}, got {_problem(answer)}",
        )
        self.model.carts[customer].pop(product, None)
        self.check_cart(customer)

    def check_cart(self, customer: int) -> None:
        """The cart shows the modelled lines and a total only when one currency pays it."""
        answer = self.shop.cart(self.model.customers[customer])
        require(answer.status == 200, "explore::answers", f"cart: {_problem(answer)}")
        lines = self._lines_shown(answer)
        expected = self.model.carts[customer]
        require(lines == expected, "explore::cart", f"cart holds {lines}, model {expected}")
        total, currencies, in_range = self.model.price(expected)
        shown = answer.field("total")
        if expected and (len(currencies) > 1 or not in_range):
            require(
                shown is None,
                "explore::cart",
                f"a cart in {sorted(currencies)} (in range: {in_range}) shows one total {shown}",
            )
        elif expected:
            want = {"amount": total, "currency": next(iter(currencies))}
            require(shown == want, "explore::cart", f"cart total {shown}, model {want}")

    # -- checkout -------------------------------------------------------------------------
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
                f"key {earlier.key} with another body: expected 409, got {_problem(answer)}",
            )
        else:
            require(
                answer.status == earlier.status
                and answer.field("id" if earlier.status == 201 else "order_id") == earlier.order_id,
                "explore::idempotency",
                f"replay of {earlier.key} ({earlier.status}, order {earlier.order_id}) "
                f"answered {_problem(answer)}",
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
            f"checkout of {dict(merged)} ({token}) answered {_problem(answer)}; "
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
            f"{self.faults.quiet_s():.0f} s: {_problem(answer)}",
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
            f"cancel of a {status} order answered {_problem(answer)}",
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


def violation_of(exc: BaseException) -> ViolationError | None:
    """The model violation an exception is or was caused by, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ViolationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
