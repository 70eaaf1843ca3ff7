"""HTTP building blocks for steps: accounts, products and orders made through the public API."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct-horse-battery"  # noqa: S105 - throwaway accounts made per scenario
PROBLEM_JSON = "application/problem+json"


def unique(prefix: str) -> str:
    """A name no other scenario (or run) will pick."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def describe(response: httpx.Response) -> str:
    """One readable line about a response, for assertion messages."""
    request = response.request
    kind = response.headers.get("content-type", "").split(";")[0]
    text = response.text
    try:
        body: Any = response.json()
        if isinstance(body, dict) and {"title", "status"} <= body.keys():
            text = f"{body.get('title')}: {body.get('detail')} (type {body.get('type')})"
        else:
            text = json.dumps(body)
    except ValueError:
        pass
    if len(text) > 300:
        text = text[:300] + "…"
    return f"{request.method} {request.url.path} → {response.status_code} {kind} {text}".strip()


def expect(response: httpx.Response, status: int | Sequence[int], doing: str) -> Any:
    """The JSON body when the status is as expected; otherwise a readable AssertionError."""
    allowed = [status] if isinstance(status, int) else list(status)
    if response.status_code not in allowed:
        wanted = " or ".join(str(s) for s in allowed)
        raise AssertionError(f"{doing}: expected HTTP {wanted}, got {describe(response)}")
    if not response.content:
        return None
    return response.json()


@dataclass(frozen=True)
class Account:
    """A user the scenario acts as, with a bearer token."""

    id: str
    email: str
    token: str = field(repr=False)
    role: str = "customer"
    password: str = field(default=PASSWORD, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header for this account."""
        return {"Authorization": f"Bearer {self.token}"}


def register(
    http: httpx.Client, email: str, password: str = PASSWORD, full_name: str = "Ada Shopper"
) -> httpx.Response:
    """POST /auth/register."""
    return http.post(
        "/auth/register", json={"email": email, "password": password, "full_name": full_name}
    )


def login(http: httpx.Client, email: str, password: str) -> httpx.Response:
    """POST /auth/token."""
    return http.post("/auth/token", json={"email": email, "password": password})


def sign_in(http: httpx.Client, email: str, password: str, role: str = "customer") -> Account:
    """Log in and return the account (with its id from /users/me)."""
    token = expect(login(http, email, password), 200, f"logging in as {email}")["access_token"]
    me = expect(
        http.get("/users/me", headers={"Authorization": f"Bearer {token}"}),
        200,
        "reading /users/me",
    )
    return Account(
        id=str(me["id"]), email=email, token=token, role=me.get("role", role), password=password
    )


def new_customer(http: httpx.Client, prefix: str = "shopper") -> Account:
    """A freshly registered, logged-in customer of this scenario only."""
    email = f"{unique(prefix)}@example.com"
    expect(register(http, email), 201, f"registering {email}")
    return sign_in(http, email, PASSWORD)


def create_product(
    http: httpx.Client,
    admin: Account,
    *,
    price: int = 1299,
    currency: str = "USD",
    stock: int = 10,
    category: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """A product of this scenario only, created through the admin API."""
    sku = unique("SKU").upper()
    body = {
        "sku": sku,
        "name": name or f"Test product {sku}",
        "category": category or unique("cat"),
        "price": {"amount": price, "currency": currency},
        "stock": stock,
        "description": "Created by an Assay acceptance scenario.",
    }
    created: dict[str, Any] = expect(
        http.post("/admin/products", json=body, headers=admin.headers), 201, "creating a product"
    )
    return created


def product(http: httpx.Client, product_id: object) -> dict[str, Any]:
    """GET /products/{id} as a shopper sees it."""
    found: dict[str, Any] = expect(http.get(f"/products/{product_id}"), 200, "reading the product")
    return found


def checkout(
    http: httpx.Client,
    account: Account,
    *,
    items: list[dict[str, Any]] | None = None,
    token: str = "tok_visa",  # noqa: S107 - a payment test token, not a secret
    key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST /orders with a fresh Idempotency-Key unless one is given."""
    body: dict[str, Any] = {"payment": {"token": token}}
    if items is not None:
        body["items"] = items
    body.update(extra or {})
    headers = {**account.headers, "Idempotency-Key": str(uuid.uuid4()) if key is None else key}
    return http.post("/orders", json=body, headers=headers)


def resend(http: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Send exactly the request behind `response` again (same headers and body)."""
    original = response.request
    return http.request(
        original.method,
        original.url,
        content=original.content,
        headers={
            name: value
            for name, value in original.headers.items()
            if name.lower() in {"authorization", "idempotency-key", "content-type"}
        },
    )


def payments(http: httpx.Client, admin: Account, order_id: object) -> list[dict[str, Any]]:
    """The payment ledger of an order (admin view)."""
    found: list[dict[str, Any]] = expect(
        http.get(f"/admin/orders/{order_id}/payments", headers=admin.headers),
        200,
        "reading the order's payments",
    )
    return found


def all_at_once(calls: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls on parallel threads released together by a barrier; responses in order."""
    barrier = threading.Barrier(len(calls))

    def fire(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(fire, calls))
