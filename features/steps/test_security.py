"""Tokens, authorization, mass assignment and rate limits (features/security)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from assay.target import Target
from features.steps.conftest import list_orders
from features.support.api import (
    PASSWORD,
    Account,
    checkout,
    describe,
    expect,
    login,
    unique,
)
from features.support.tokens import forge

scenarios("security")

ADMIN_PROBES = [("GET", "/admin/audit"), ("GET", "/admin/flags"), ("POST", "/admin/products")]
LOGIN_ATTEMPTS = 20


# --- tokens -------------------------------------------------------------------------------


@when(parsers.parse("the customer calls /users/me with a {kind} token"), target_fixture="response")
def call_with_token(
    http: httpx.Client, target: Target, customer: Account, kind: str
) -> httpx.Response:
    token = forge(kind, customer.id, customer.token, target.jwt)
    if token is None:
        pytest.skip(f"forging a {kind} token needs the target's JWT secret: set ASSAY_JWT_SECRET")
    return http.get("/users/me", headers={"Authorization": f"Bearer {token}"})


@then("the response asks for a bearer token")
def asks_for_bearer(response: httpx.Response) -> None:
    challenge = response.headers.get("WWW-Authenticate", "")
    if not challenge.lower().startswith("bearer"):
        raise AssertionError(f"expected a WWW-Authenticate: Bearer challenge, got {challenge!r}")


# --- authorization ------------------------------------------------------------------------


@when("the other customer looks up the order", target_fixture="response")
def other_looks_up(
    http: httpx.Client, other_customer: Account, order: dict[str, Any]
) -> httpx.Response:
    return http.get(f"/orders/{order['id']}", headers=other_customer.headers)


@then("the other customer's order list does not include the order")
def other_list_excludes(http: httpx.Client, other_customer: Account, order: dict[str, Any]) -> None:
    if order["id"] in [o["id"] for o in list_orders(http, other_customer)]:
        raise AssertionError(f"order {order['id']} shows up in another customer's list")


@when(
    parsers.re(r"the customer sends (?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/\S*)"),
    target_fixture="response",
)
def customer_sends(http: httpx.Client, customer: Account, method: str, path: str) -> httpx.Response:
    body: dict[str, object] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return http.request(method, path, json=body, headers=customer.headers)


# --- mass assignment ----------------------------------------------------------------------

SMUGGLED: dict[str, tuple[str, Any]] = {
    "item price": ("item", {"price": {"amount": 1, "currency": "USD"}}),
    "total": ("order", {"total": {"amount": 1, "currency": "USD"}}),
    "status": ("order", {"status": "confirmed"}),
}


@when(
    parsers.parse("the customer checks out {quantity:d} of the product sending its own {field}"),
    target_fixture="response",
)
def smuggle(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int, field: str
) -> httpx.Response:
    where, extra = SMUGGLED[field]
    item: dict[str, Any] = {"product_id": product["id"], "quantity": quantity}
    if where == "item":
        item.update(extra)
        return checkout(http, customer, items=[item])
    return checkout(http, customer, items=[item], extra=extra)


@when("a visitor registers with a new email asking for the admin role", target_fixture="response")
def register_as_admin(http: httpx.Client) -> httpx.Response:
    email = f"{unique('climber')}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Mallory", "role": "admin"}
    return http.post("/auth/register", json=body)


@then("the registration is refused or the account is a customer")
def refused_or_customer(http: httpx.Client, response: httpx.Response) -> None:
    if response.status_code == 422:
        return
    created = expect(response, [201, 422], "registering with a role")
    if created.get("role") != "customer":
        raise AssertionError(f"self-registration granted role {created.get('role')!r}")
    token = expect(login(http, created["email"], PASSWORD), 200, "logging in")["access_token"]
    flags = http.get("/admin/flags", headers={"Authorization": f"Bearer {token}"})
    expect(flags, 403, "the self-registered account on /admin/flags")


@when(
    parsers.parse('the customer updates their profile with the role "{role}"'),
    target_fixture="response",
)
def update_role(http: httpx.Client, customer: Account, role: str) -> httpx.Response:
    return http.patch(
        "/users/me", json={"full_name": "Mallory", "role": role}, headers=customer.headers
    )


@then("the customer is still a customer")
def still_customer(http: httpx.Client, customer: Account) -> None:
    me = expect(http.get("/users/me", headers=customer.headers), 200, "/users/me")
    if me["role"] != "customer":
        raise AssertionError(f"the customer became {me['role']!r}")


@then("the customer is still forbidden from the admin endpoints")
def still_forbidden(http: httpx.Client, customer: Account, target: Target) -> None:
    fresh = expect(login(http, customer.email, customer.password), 200, "logging in again")[
        "access_token"
    ]
    for method, path in ADMIN_PROBES:
        body: dict[str, object] | None = {} if method == "POST" else None
        response = http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {fresh}"}
        )
        expect(response, 403, f"{method} {path} with a fresh customer token")


# --- rate limits --------------------------------------------------------------------------


def hammer(http: httpx.Client, email: str) -> list[httpx.Response]:
    """Wrong-password logins until throttled (429) or LOGIN_ATTEMPTS tries."""
    answers: list[httpx.Response] = []
    for _ in range(LOGIN_ATTEMPTS):
        answers.append(login(http, email, "wrong-password"))
        if answers[-1].status_code == 429:
            break
    return answers


@when("someone keeps logging in as the visitor with wrong passwords", target_fixture="attempts")
def keep_failing(http: httpx.Client, visitor_email: str) -> list[httpx.Response]:
    return hammer(http, visitor_email)


@given("someone kept logging in as the visitor with wrong passwords until throttled")
def kept_failing(http: httpx.Client, visitor_email: str) -> None:
    answers = hammer(http, visitor_email)
    if answers[-1].status_code != 429:
        raise AssertionError(f"no 429 after {len(answers)} failed logins")


@then(parsers.parse("the login is throttled within {limit:d} attempts"), target_fixture="response")
def throttled_within(attempts: list[httpx.Response], limit: int) -> httpx.Response:
    statuses = [a.status_code for a in attempts]
    if 429 not in statuses[:limit]:
        raise AssertionError(f"no 429 within {limit} failed logins; statuses {statuses}")
    unexpected = [describe(a) for a in attempts if a.status_code not in {401, 429}]
    if unexpected:
        raise AssertionError(f"failed logins must answer 401 until throttled: {unexpected}")
    return attempts[statuses.index(429)]


@when("the customer logs in with the right password", target_fixture="response")
def customer_logs_in(http: httpx.Client, customer: Account) -> httpx.Response:
    return login(http, customer.email, customer.password)
