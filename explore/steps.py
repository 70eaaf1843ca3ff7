"""The steps of an exploration: each acts on the target, then checks it against the model.

A step is a name and JSON arguments (`Step`), so the sequence Hypothesis found can be saved
and replayed as a regression test. `Explorer.apply` runs one; every step method raises a
`ViolationError` naming the broken property when the target disagrees with the model.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

from explore.api import Shop
from explore.checkout import RATE_LIMITED, CheckoutSteps
from explore.checkout import problem as _problem
from explore.faults import FaultState
from explore.model import Model, Product, ViolationError, require

Step = tuple[str, dict[str, Any]]


class Explorer(CheckoutSteps):
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


def violation_of(exc: BaseException) -> ViolationError | None:
    """The model violation an exception is or was caused by, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ViolationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
