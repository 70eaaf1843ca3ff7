"""The shopper journeys (seed sections 10, 32, 49) as one paced FastHttpUser.

Each iteration picks a journey by its configured weight. Requests are named
`"<journey> <path template>"`, so URLs with ids group into one endpoint group per journey
and the gate can judge groups, journeys and the whole run.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

from locust import FastHttpUser, task
from locust.exception import StopUser

from perf.config import PerfConfig, exemption_headers
from perf.data import Account, TestData
from perf.pacing import PoissonPacer
from perf.plan import REQUESTS_PER_JOURNEY
from perf.variety import APPROVED_TOKEN, DECLINED_TOKEN, basket, popularity

TOKEN_REFRESH_S = 300.0  # log in again this long before a token could expire


@dataclass(frozen=True)
class Journey:
    """A named flow and how many requests one run of it sends (for pacing)."""

    name: str
    run: Callable[[Shopper], None]
    requests: float


JOURNEYS: dict[str, Journey] = {}


def journey(name: str) -> Callable[[Callable[[Shopper], None]], Journey]:
    """Register a journey function under `name` (its request count is in perf.plan)."""

    def register(run: Callable[[Shopper], None]) -> Journey:
        JOURNEYS[name] = Journey(name, run, REQUESTS_PER_JOURNEY[name])
        return JOURNEYS[name]

    return register


@dataclass
class Plan:
    """What every user of this process shares: data, weights and pacing."""

    data: TestData
    names: list[str]
    weights: list[float]
    user_rate: float
    retry_share: float
    decline_share: float = 0.0
    processes: int = 1  # Locust processes running users; user numbers interleave across them
    # Cumulative popularity of data.product_ids, in their order (see perf.variety).
    product_popularity: list[float] = field(default_factory=list)

    @classmethod
    def build(cls, config: PerfConfig, data: TestData) -> Plan:
        """Weights of the journeys that can run against this target."""
        weights = config.weights(set(JOURNEYS))
        if data.admin is None:
            weights.pop("admin", None)
        if not weights:
            raise ValueError("no journey has a positive weight")
        names, values = list(weights), list(weights.values())
        return cls(
            data,
            names,
            values,
            config.user_rate,
            config.retry_share,
            config.decline_share,
            product_popularity=popularity(len(data.product_ids)),
        )

    def requests_per_iteration(self) -> float:
        """Mean requests one iteration sends, by weight."""
        pairs = zip(self.names, self.weights, strict=True)
        return sum(w * JOURNEYS[n].requests for n, w in pairs) / sum(self.weights)


class Shopper(FastHttpUser):
    """One simulated customer; journeys start as a Poisson process of `user_rate` per second."""

    plan: ClassVar[Plan | None] = None
    _numbers: ClassVar[itertools.count[int]] = itertools.count()
    _issued: ClassVar[dict[str, float]] = {}  # account email -> when this process got its token
    connection_timeout = 10.0
    network_timeout = 30.0
    default_headers = exemption_headers() or None  # from the environment Locust started in

    def on_start(self) -> None:
        """Take an account from the pool and start at a random offset."""
        if self.plan is None:
            raise StopUser("no test data: the locustfile's init listener did not run")
        accounts = self.plan.data.accounts
        # Numbers unique across worker processes: users sharing an account get distinct slots.
        worker = getattr(self.environment.runner, "worker_index", 0)
        number = next(self._numbers) * self.plan.processes + worker
        self.account: Account = accounts[number % len(accounts)]
        # Users sharing an account edit different cart lines, so carts never race each other.
        stocked = self.plan.data.order_product_ids
        self.cart_product = stocked[(number // len(accounts)) % len(stocked)]
        self.rng = random.Random()  # noqa: S311 - load variety, not security
        self.pacer = PoissonPacer(self.plan.user_rate, self.rng)
        time.sleep(self.pacer.first_delay())  # gevent-patched: yields to other users

    def wait_time(self) -> float:
        """Seconds until this user's next journey."""
        return self.pacer.wait()

    @task
    def iteration(self) -> None:
        """One journey, chosen by weight."""
        assert self.plan is not None
        name = self.rng.choices(self.plan.names, self.plan.weights)[0]
        JOURNEYS[name].run(self)

    # helpers used by the journeys

    def auth(self, account: Account | None = None) -> dict[str, str]:
        """Bearer header for the user's account, logging in again well before expiry."""
        who = account or self.account
        issued = self._issued.setdefault(who.email, time.monotonic())
        if time.monotonic() - issued > TOKEN_REFRESH_S:
            self.login(who)
        return {"Authorization": f"Bearer {who.token}"}

    def login(self, account: Account) -> None:
        """POST /auth/token for the account (counted under the login journey)."""
        body = {"email": account.email, "password": account.password}
        with self.client.post(
            "/auth/token", json=body, name="login /auth/token", catch_response=True
        ) as response:
            if response.status_code == 200:
                account.token = response.json()["access_token"]
                self._issued[account.email] = time.monotonic()

    def product_id(self) -> int:
        """A catalog product to look at, the popular ones far more often (perf.variety)."""
        assert self.plan is not None
        ids, weights = self.plan.data.product_ids, self.plan.product_popularity
        return self.rng.choices(ids, cum_weights=weights or None)[0]

    def stocked_id(self) -> int:
        """A product with ample stock, to put in a cart or order."""
        assert self.plan is not None
        return self.rng.choice(self.plan.data.order_product_ids)

    def order(self, journey_name: str, *, declined: bool = False) -> dict[str, Any] | None:
        """Checkout a basket with a fresh Idempotency-Key; the order, or None.

        With `declined` the card is one the gateway declines: a 402 is the answer expected.
        """
        assert self.plan is not None
        key = uuid.uuid4().hex
        body = {
            "items": basket(self.rng, self.plan.data.order_product_ids),
            "payment": {"token": DECLINED_TOKEN if declined else APPROVED_TOKEN},
        }
        headers = {**self.auth(), "Idempotency-Key": key}
        name = f"{journey_name} /orders"
        if declined:
            with self.client.post(
                "/orders", json=body, headers=headers, name=name, catch_response=True
            ) as refused:
                if refused.status_code == HTTPStatus.PAYMENT_REQUIRED:
                    refused.success()
                else:
                    refused.failure(f"a declined card was answered {refused.status_code}")
            return None
        response = self.client.post("/orders", json=body, headers=headers, name=name)
        if response.status_code != 201:
            return None
        order: dict[str, Any] = response.json()
        if journey_name == "checkout" and self.rng.random() < self.plan.retry_share:
            # A client retrying on a lost response: must replay the same order, not make one.
            with self.client.post(
                "/orders", json=body, headers=headers, name=name, catch_response=True
            ) as replay:
                if replay.status_code != 201:
                    replay.failure(f"retry with the same key answered {replay.status_code}")
                elif replay.headers.get("Idempotent-Replayed") != "true":
                    replay.failure("retry with the same key was not a replay")
                elif replay.json().get("id") != order["id"]:
                    replay.failure("retry with the same key made a second order")
        return order


@journey("browse")
def browse(user: Shopper) -> None:
    """Anonymous browsing: a first page, then the next one."""
    first = user.client.get("/products?limit=20", name="browse /products")
    cursor = first.json().get("next_cursor") if first.status_code == 200 else None
    if cursor:
        user.client.get(f"/products?limit=20&cursor={cursor}", name="browse /products")


@journey("search")
def search(user: Shopper) -> None:
    """Search by a word of a product name, or filter by category."""
    assert user.plan is not None
    data = user.plan.data
    if user.rng.random() < 0.5:
        path = f"/products?q={user.rng.choice(data.search_terms)}&limit=20"
    else:
        path = f"/products?category={user.rng.choice(data.categories)}&limit=20"
    user.client.get(path, name="search /products")


@journey("product")
def product(user: Shopper) -> None:
    """Product detail."""
    user.client.get(f"/products/{user.product_id()}", name="product /products/{id}")


@journey("cart")
def cart(user: Shopper) -> None:
    """Put an item in the cart, look at the cart, take the item out again."""
    product_id = user.cart_product
    headers = user.auth()
    path, name = f"/cart/items/{product_id}", "cart /cart/items/{id}"
    quantity = {"quantity": user.rng.randint(1, 3)}
    user.client.put(path, json=quantity, headers=headers, name=name)
    user.client.get("/cart", headers=headers, name="cart /cart")
    user.client.delete(path, headers=headers, name=name)


@journey("checkout")
def checkout(user: Shopper) -> None:
    """Checkout with a fresh Idempotency-Key (a small share retried with the same key, another
    paid with a card the gateway declines)."""
    assert user.plan is not None
    user.order("checkout", declined=user.rng.random() < user.plan.decline_share)


@journey("history")
def history(user: Shopper) -> None:
    """Order history, then the newest order."""
    headers = user.auth()
    listing = user.client.get("/orders", headers=headers, name="history /orders")
    items = listing.json().get("items", []) if listing.status_code == 200 else []
    if items:
        user.client.get(f"/orders/{items[0]['id']}", headers=headers, name="history /orders/{id}")


@journey("cancel")
def cancel(user: Shopper) -> None:
    """Order something, then cancel it (refund and restock)."""
    order = user.order("cancel")
    if order is not None:
        user.client.post(
            f"/orders/{order['id']}/cancel", headers=user.auth(), name="cancel /orders/{id}/cancel"
        )


@journey("login")
def login(user: Shopper) -> None:
    """Log in again (argon2 verification: the costliest request a shopper makes)."""
    user.login(user.account)


@journey("admin")
def admin(user: Shopper) -> None:
    """An admin glancing at the feature flags."""
    assert user.plan is not None
    assert user.plan.data.admin is not None
    headers = user.auth(user.plan.data.admin)
    user.client.get("/admin/flags", headers=headers, name="admin /admin/flags")
