"""The Hypothesis rule-based state machine that picks the steps, and the bounded run of it.

Hypothesis chooses rules and arguments; `Explorer` (explore.steps) does and checks each step.
The run is bounded three ways: `max_examples`, `stateful_step_count` and a wall-clock budget
(past it every rule is a no-op, so Hypothesis finishes its examples at once). Once a step
fails, shrinking gets a budget of its own; the shortest failing step sequence is kept.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    precondition,
    rule,
)

from explore.api import ApiError, Shop
from explore.checkout import TOKENS
from explore.faults import AMBIGUOUS, FLAGS, SCENARIO_CHOICES, FaultState
from explore.model import ViolationError
from explore.steps import Explorer, Step, violation_of

CURRENCIES = ("USD", "USD", "USD", "EUR")
LEDGER_CHECK_EVERY_S = 10.0  # the in-run money reconciliation, at most this often
MAX_CUSTOMERS = 3
MAX_PRODUCTS = 4
CHUNK = 20  # examples per Hypothesis round (the budget is looked at between rounds)


@dataclass(frozen=True)
class Failure:
    """A step sequence that broke a property, and what broke."""

    steps: list[Step]
    check: str
    message: str


@dataclass
class Session:
    """Everything the examples of one exploration share."""

    shop: Shop
    max_amount: int
    budget_s: float
    shrink_budget_s: float
    ledger_check: Callable[[list[str]], None] | None = None  # raises ViolationError
    faults: FaultState = field(default_factory=FaultState)
    started: float = field(default_factory=time.monotonic)
    examples: int = 0
    steps: int = 0
    checked: Counter[str] = field(default_factory=Counter)
    exercised: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    user_ids: set[str] = field(default_factory=set)
    last_ledger_check: float = 0.0

    def out_of_time(self) -> bool:
        """Past the budget (or, once something failed, past the shrinking budget)."""
        if _final_replay():
            return False
        now = time.monotonic()
        if self.failures:
            return now > self.first_failure_at + self.shrink_budget_s
        return now > self.started + self.budget_s

    @property
    def first_failure_at(self) -> float:
        """When the first failure was seen (monotonic)."""
        return self._first_failure_at

    def fail(self, steps: list[Step], violation: ViolationError) -> None:
        """Keep a failing sequence."""
        if not self.failures:
            self._first_failure_at = time.monotonic()
        self.failures.append(Failure(list(steps), violation.check, violation.message))

    def shortest(self) -> Failure | None:
        """The shortest failing sequence (the latest among equals: Hypothesis' final one)."""
        if not self.failures:
            return None
        return min(reversed(self.failures), key=lambda f: len(f.steps))

    _first_failure_at: float = 0.0


def _final_replay() -> bool:
    try:
        return bool(current_build_context().is_final)
    except HypothesisException:
        return False


def _rarely(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """`common` nine times in ten, `rare` otherwise."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else common)


def machine_for(session: Session) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one session (Hypothesis makes one per example)."""
    edge_prices = st.sampled_from(
        [session.max_amount, session.max_amount // 2 + 1, session.max_amount // 3 + 1]
    )
    prices = _rarely(st.integers(1, 5000), edge_prices)
    quantities = _rarely(st.integers(1, 4), st.integers(50, 99))
    stocks = _rarely(st.integers(5, 30), st.integers(0, 2))
    tokens = _rarely(st.just(TOKENS[0]), st.sampled_from(TOKENS))
    gateways = list(session.shop.gateways())  # the target's order: primary first

    class OrderFlows(RuleBasedStateMachine):
        """Customers, carts, checkouts, retries, cancels, admin changes and faults."""

        def __init__(self) -> None:
            super().__init__()
            session.examples += 1
            self.explorer = Explorer(session.shop, session.faults, max_amount=session.max_amount)
            self.explorer.checked = session.checked
            self.explorer.answers = session.answers
            # What the steps made, counted here whatever the target answered (or whether the
            # budget let them run): rules choose from these, so Hypothesis' choices replay.
            self.customers = 0
            self.products = 0
            self.attempts = 0

        @property
        def model(self) -> Any:
            return self.explorer.model

        def step(self, name: str, /, **args: Any) -> None:
            if session.out_of_time():
                return
            session.steps += 1
            session.exercised[name] += 1
            try:
                try:
                    self.explorer.apply(name, **args)
                except ApiError as exc:
                    raise ViolationError("explore::answers", str(exc)) from exc
            except ViolationError as exc:
                session.fail(self.explorer.journal, exc)
                raise

        def pick(self, data: st.DataObject, count: int, label: str) -> int:
            return data.draw(st.integers(0, count - 1), label=label)

        def ready(self) -> bool:
            return bool(self.customers and self.products)

        @initialize(price=prices, currency=st.sampled_from(CURRENCIES), stock=stocks)
        def start(self, price: int, currency: str, stock: int) -> None:
            self.register()
            self.create_product(price, currency, stock)

        @precondition(lambda self: self.customers < MAX_CUSTOMERS)
        @rule()
        def register(self) -> None:
            self.customers += 1
            self.step("register")

        @precondition(lambda self: self.products < MAX_PRODUCTS)
        @rule(price=prices, currency=st.sampled_from(CURRENCIES), stock=stocks)
        def create_product(self, price: int, currency: str, stock: int) -> None:
            self.products += 1
            self.step("create_product", price=price, currency=currency, stock=stock)

        @precondition(ready)
        @rule(data=st.data(), price=prices, currency=st.sampled_from(CURRENCIES))
        def set_price(self, data: st.DataObject, price: int, currency: str) -> None:
            product = self.pick(data, self.products, "product")
            self.step("set_price", product=product, price=price, currency=currency)

        @precondition(ready)
        @rule(data=st.data(), stock=stocks)
        def set_stock(self, data: st.DataObject, stock: int) -> None:
            product = self.pick(data, self.products, "product")
            self.step("set_stock", product=product, stock=stock)

        @rule(data=st.data())
        def set_flag(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(FLAGS)), label="flag")
            value = data.draw(st.sampled_from(FLAGS[name]), label="value")
            self.step("set_flag", name=name, value=value)

        @precondition(lambda self: bool(gateways))
        @rule(data=st.data(), scenario=st.sampled_from(SCENARIO_CHOICES))
        def gateway_faults(self, data: st.DataObject, scenario: str) -> None:
            gateway = data.draw(st.sampled_from(gateways), label="gateway")
            self.step("gateway_faults", gateway=gateway, scenario=scenario)

        @precondition(ready)
        @rule(data=st.data(), quantity=quantities)
        def cart_set(self, data: st.DataObject, quantity: int) -> None:
            customer = self.pick(data, self.customers, "customer")
            product = self.pick(data, self.products, "product")
            self.step("cart_set", customer=customer, product=product, quantity=quantity)

        @precondition(ready)
        @rule(data=st.data())
        def cart_remove(self, data: st.DataObject) -> None:
            customer = self.pick(data, self.customers, "customer")
            product = self.pick(data, self.products, "product")
            self.step("cart_remove", customer=customer, product=product)

        @precondition(ready)
        @rule(data=st.data(), token=tokens)
        def checkout_cart(self, data: st.DataObject, token: str) -> None:
            customer = self.pick(data, self.customers, "customer")
            self.attempts += 1
            self.step("checkout_cart", customer=customer, token=token)

        @precondition(ready)
        @rule(data=st.data(), token=tokens)
        def checkout_items(self, data: st.DataObject, token: str) -> None:
            customer = self.pick(data, self.customers, "customer")
            line = st.tuples(st.integers(0, self.products - 1), quantities)
            items = data.draw(st.lists(line, min_size=1, max_size=3), label="items")
            lines = [[index, quantity] for index, quantity in items]
            self.attempts += 1
            self.step("checkout_items", customer=customer, items=lines, token=token)

        @precondition(lambda self: bool(gateways) and self.ready())
        @rule(data=st.data(), scenario=st.sampled_from(AMBIGUOUS), token=tokens)
        def checkout_in_ambiguous_window(
            self, data: st.DataObject, scenario: str, token: str
        ) -> None:
            """A gateway charges and then fails or stalls (its lookups perhaps failing too)
            while a customer buys one product: where money goes missing, on purpose."""
            gateway = data.draw(st.sampled_from(gateways), label="gateway")
            self.step("gateway_faults", gateway=gateway, scenario=scenario)
            customer = self.pick(data, self.customers, "customer")
            line = [self.pick(data, self.products, "product"), data.draw(st.integers(1, 3))]
            self.attempts += 1
            self.step("checkout_items", customer=customer, items=[line], token=token)

        @precondition(lambda self: self.attempts > 0)
        @rule(data=st.data(), same_body=_rarely(st.just(True), st.just(False)))
        def retry(self, data: st.DataObject, same_body: bool) -> None:
            attempt = self.pick(data, self.attempts, "attempt")
            self.step("retry", attempt=attempt, same_body=same_body)

        @precondition(lambda self: self.attempts > 0)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            self.step("cancel", attempt=self.pick(data, self.attempts, "attempt"))

        def teardown(self) -> None:
            session.faults.reset(session.shop)
            session.user_ids.update(self.model.user_ids)
            due = time.monotonic() - session.last_ledger_check > LEDGER_CHECK_EVERY_S
            if session.ledger_check and self.model.orders and due and not session.out_of_time():
                session.last_ledger_check = time.monotonic()
                try:
                    session.ledger_check(list(self.model.user_ids))
                except ViolationError as exc:
                    session.fail(self.explorer.journal, exc)
                    raise

    return OrderFlows


# One pass through every modelled property before the random part, so even a short budget
# judges each of them (and a target that fails the plain path fails with a short regression).
WARM_UP: list[Step] = [
    ("register", {}),
    ("create_product", {"price": 1299, "currency": "USD", "stock": 10}),
    ("cart_set", {"customer": 0, "product": 0, "quantity": 2}),
    ("checkout_cart", {"customer": 0, "token": "tok_visa"}),
    ("retry", {"attempt": 0, "same_body": True}),
    ("retry", {"attempt": 0, "same_body": False}),
    ("checkout_items", {"customer": 0, "items": [[0, 1]], "token": "tok_decline"}),
    ("cancel", {"attempt": 0}),
    ("cancel", {"attempt": 0}),
]


def warm_up(session: Session) -> Failure | None:
    """Run WARM_UP once; the failure, or None."""
    explorer = Explorer(session.shop, session.faults, max_amount=session.max_amount)
    explorer.checked, explorer.answers = session.checked, session.answers
    try:
        for name, args in WARM_UP:
            session.steps += 1
            session.exercised[name] += 1
            try:
                explorer.apply(name, **args)
            except ApiError as exc:
                raise ViolationError("explore::answers", str(exc)) from exc
    except ViolationError as exc:
        session.fail(explorer.journal, exc)
        return session.shortest()
    finally:
        session.user_ids.update(explorer.model.user_ids)
    return None


@dataclass(frozen=True)
class Settings:
    """How far one exploration goes."""

    seed: int
    max_examples: int
    stateful_step_count: int


def explore(session: Session, bounds: Settings) -> Failure | None:
    """Run the state machine within its bounds; the shortest failure, or None.

    Hypothesis runs in rounds of CHUNK examples (round i seeded `seed + i`) so the wall-clock
    budget ends the exploration within one round; a failure ends it after shrinking.
    """
    failure = warm_up(session)
    if failure is not None:
        return failure
    machine = machine_for(session)
    done = 0
    for round_ in range(bounds.max_examples):
        if done >= bounds.max_examples or session.out_of_time():
            break
        count = min(CHUNK, bounds.max_examples - done)
        test = get_state_machine_test(
            machine,
            settings=settings(
                max_examples=count,
                stateful_step_count=bounds.stateful_step_count,
                deadline=None,
                database=None,
                derandomize=False,
                report_multiple_bugs=False,
                print_blob=False,
                suppress_health_check=list(HealthCheck),
            ),
        )
        try:
            seed(bounds.seed + round_)(test)()
        except (AssertionError, HypothesisException, ExceptionGroup) as exc:
            if session.failures:
                return session.shortest()
            violation = violation_of(exc)
            if violation is None:
                raise
            return Failure([], violation.check, violation.message)
        done += count
    return session.shortest()
