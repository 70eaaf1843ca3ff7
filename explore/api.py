"""The target's HTTP API as the exploration uses it: one customer or admin call per method.

Nothing here judges an answer; the steps do that against the model.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from assay.target import Target

HTTP_TIMEOUT_S = 30.0  # longer than any stall a fault knob adds to one checkout
DEFAULT_MAX_AMOUNT = 100_000_000_00  # the money range when the OpenAPI document does not say


class ApiError(Exception):
    """The target could not be reached or set up; the exploration cannot judge it."""


@dataclass(frozen=True)
class Answer:
    """A status and a JSON body (None when there was none)."""

    status: int
    body: Any
    headers: Mapping[str, str]

    def field(self, name: str) -> Any:
        """A top-level field of an object body, or None."""
        return self.body.get(name) if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class Customer:
    """A customer the exploration registered."""

    user_id: str
    email: str
    token: str


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Answer(response.status_code, body, response.headers)


class Shop:
    """Calls to one target: the admin's and any customer's."""

    def __init__(self, target: Target, client: httpx.Client) -> None:
        self.target = target
        self.client = client
        self.base = target.base_url
        self._admin: str | None = None

    # -- plumbing -----------------------------------------------------------------------
    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Answer:
        """One request; a transport failure is an ApiError (the target stopped answering)."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.client.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        return _answer(response)

    def _ok(self, answer: Answer, what: str, *expected: int) -> Answer:
        if answer.status not in (expected or (200,)):
            raise ApiError(f"{what} answered {answer.status}: {str(answer.body)[:300]}")
        return answer

    def admin_token(self) -> str:
        """The admin's bearer token (signed in once)."""
        if self._admin is None:
            if self.target.admin is None:
                raise ApiError("the target's admin account is unknown (ASSAY_ADMIN_EMAIL)")
            body = {"email": self.target.admin.email, "password": self.target.admin.password}
            answer = self._ok(self.call("POST", "/auth/token", json=body), "admin sign-in")
            self._admin = str(answer.field("access_token"))
        return self._admin

    def max_amount(self) -> int:
        """The largest price the target's contract accepts (its money range)."""
        answer = self.call("GET", "/openapi.json")
        try:
            schema = answer.body["components"]["schemas"]["Price"]
            return int(schema["properties"]["amount"]["maximum"])
        except (KeyError, TypeError, ValueError):
            return DEFAULT_MAX_AMOUNT

    # -- customers ----------------------------------------------------------------------
    def register(self) -> Customer:
        """A new customer, signed in."""
        email = f"explore-{secrets.token_hex(6)}@example.com"
        password = secrets.token_urlsafe(12)
        body = {"email": email, "password": password, "full_name": "Explorer"}
        user = self._ok(self.call("POST", "/auth/register", json=body), "register", 201)
        login = {"email": email, "password": password}
        token = self._ok(self.call("POST", "/auth/token", json=login), "sign-in")
        return Customer(str(user.field("id")), email, str(token.field("access_token")))

    def set_line(self, token: str, product_id: int, quantity: int) -> Answer:
        """PUT /cart/items/{id}."""
        return self.call("PUT", f"/cart/items/{product_id}", token, json={"quantity": quantity})

    def remove_line(self, token: str, product_id: int) -> Answer:
        """DELETE /cart/items/{id}."""
        return self.call("DELETE", f"/cart/items/{product_id}", token)

    def cart(self, token: str) -> Answer:
        """GET /cart."""
        return self.call("GET", "/cart", token)

    def checkout(self, token: str, key: str, body: dict[str, Any]) -> Answer:
        """POST /orders with an Idempotency-Key."""
        return self.call("POST", "/orders", token, json=body, headers={"Idempotency-Key": key})

    def order(self, token: str, order_id: str) -> Answer:
        """GET /orders/{id}."""
        return self.call("GET", f"/orders/{order_id}", token)

    def cancel(self, token: str, order_id: str) -> Answer:
        """POST /orders/{id}/cancel."""
        return self.call("POST", f"/orders/{order_id}/cancel", token)

    # -- catalog and admin --------------------------------------------------------------
    def product(self, product_id: int) -> Answer:
        """GET /products/{id} (what shoppers see, `available` included)."""
        return self.call("GET", f"/products/{product_id}")

    def create_product(self, amount: int, currency: str, stock: int) -> int:
        """A product of the exploration's own; its id."""
        sku = f"explore-{secrets.token_hex(6)}"
        body = {
            "sku": sku,
            "name": f"Explored {sku}",
            "category": "explore",
            "price": {"amount": amount, "currency": currency},
            "stock": stock,
        }
        answer = self.call("POST", "/admin/products", self.admin_token(), json=body)
        return int(self._ok(answer, "create product", 201).field("id"))

    def set_price(self, product_id: int, amount: int, currency: str) -> Answer:
        """PATCH /admin/products/{id} with a new price."""
        body = {"price": {"amount": amount, "currency": currency}}
        return self.call("PATCH", f"/admin/products/{product_id}", self.admin_token(), json=body)

    def set_stock(self, product_id: int, stock: int) -> Answer:
        """PUT /admin/inventory/{id}."""
        path = f"/admin/inventory/{product_id}"
        return self.call("PUT", path, self.admin_token(), json={"stock": stock})

    def set_flag(self, name: str, value: bool | int | float) -> None:
        """PUT /admin/flags/{name}."""
        answer = self.call("PUT", f"/admin/flags/{name}", self.admin_token(), json={"value": value})
        self._ok(answer, f"flag {name}")

    # -- gateways -----------------------------------------------------------------------
    def gateways(self) -> Mapping[str, str]:
        """Gateway name -> base URL, when the target exposes its gateways' ledgers."""
        ledgers: Mapping[str, str] = getattr(self.target, "ledgers", None) or {}
        return ledgers

    def set_faults(self, gateway: str, faults: Mapping[str, Any]) -> None:
        """Replace a gateway's fault knobs (`PUT /_faults`; absent knobs are off)."""
        url = f"{self.gateways()[gateway].rstrip('/')}/_faults"
        try:
            response = self.client.put(url, json=dict(faults))
        except httpx.HTTPError as exc:
            raise ApiError(f"faults of {gateway}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise ApiError(f"faults of {gateway} answered {response.status_code}: {response.text}")

    def ledger(self, gateway: str) -> dict[str, Any]:
        """A gateway's own record of charges and refunds (`GET /ledger`)."""
        url = f"{self.gateways()[gateway].rstrip('/')}/ledger"
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            raise ApiError(f"ledger of {gateway}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise ApiError(f"ledger of {gateway} answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body


def open_client() -> httpx.Client:
    """The one HTTP client an exploration uses."""
    return httpx.Client(timeout=HTTP_TIMEOUT_S)
