"""Registration, login and profile (features/users)."""

from __future__ import annotations

from typing import Any

import httpx
from pytest_bdd import parsers, scenarios, then, when

from features.steps.conftest import new_email
from features.support.api import PASSWORD, Account, expect, login, register

scenarios("users")


@when("a visitor registers with a new email", target_fixture="response")
def visitor_registers(http: httpx.Client) -> httpx.Response:
    return register(http, new_email())


@when("another visitor registers with the same email", target_fixture="response")
def registers_same(http: httpx.Client, visitor_email: str) -> httpx.Response:
    return register(http, visitor_email.upper(), full_name="Someone Else")


@when(
    parsers.parse(
        'a visitor registers with email "{email}", password "{password}" and name "{name}"'
    ),
    target_fixture="response",
)
def registers_with(http: httpx.Client, email: str, password: str, name: str) -> httpx.Response:
    address = new_email() if email == "new" else email
    return register(http, address, password=password, full_name="" if name == "<blank>" else name)


@then("the account is a customer account without any password in it")
def customer_account(response: httpx.Response) -> None:
    body: dict[str, Any] = response.json()
    if body.get("role") != "customer":
        raise AssertionError(f"expected role customer, got {body.get('role')!r}")
    leaked = [k for k in body if "password" in k.lower() or "hash" in k.lower()]
    if leaked:
        raise AssertionError(f"registration response exposes {leaked}")


@when("the visitor logs in with the right password", target_fixture="response")
def logs_in_right(http: httpx.Client, visitor_email: str) -> httpx.Response:
    return login(http, visitor_email, PASSWORD)


@then("the response holds a bearer token that expires")
def holds_token(response: httpx.Response) -> None:
    body = expect(response, 200, "logging in")
    if body.get("token_type", "").lower() != "bearer" or not body.get("access_token"):
        raise AssertionError(f"expected a bearer access_token, got {body}")
    if not isinstance(body.get("expires_in"), int) or body["expires_in"] <= 0:
        raise AssertionError(f"expected a positive expires_in, got {body.get('expires_in')!r}")


@then("the token identifies the visitor on /users/me")
def token_identifies(http: httpx.Client, response: httpx.Response, visitor_email: str) -> None:
    token = response.json()["access_token"]
    me = expect(
        http.get("/users/me", headers={"Authorization": f"Bearer {token}"}), 200, "/users/me"
    )
    if me["email"].lower() != visitor_email.lower():
        raise AssertionError(f"token belongs to {me['email']}, not {visitor_email}")


@when("the visitor logs in with a wrong password", target_fixture="wrong_password")
def logs_in_wrong(http: httpx.Client, visitor_email: str) -> httpx.Response:
    return login(http, visitor_email, "not-the-password")


@when("someone logs in as an unknown user", target_fixture="unknown_user")
def logs_in_unknown(http: httpx.Client) -> httpx.Response:
    return login(http, new_email(), "not-the-password")


@then("both answers are 401 with the same problem")
def same_problem(wrong_password: httpx.Response, unknown_user: httpx.Response) -> None:
    first = expect(wrong_password, 401, "wrong password")
    second = expect(unknown_user, 401, "unknown user")
    fields = ("type", "title", "status", "detail")
    if [first.get(f) for f in fields] != [second.get(f) for f in fields]:
        raise AssertionError(f"the answers tell the cases apart: {first} vs {second}")


@when(parsers.parse('the customer changes their full name to "{name}"'), target_fixture="response")
def change_name(http: httpx.Client, customer: Account, name: str) -> httpx.Response:
    return http.patch("/users/me", json={"full_name": name}, headers=customer.headers)


@then(parsers.parse('the customer\'s profile shows the name "{name}"'))
def profile_name(http: httpx.Client, customer: Account, name: str) -> None:
    me = expect(http.get("/users/me", headers=customer.headers), 200, "/users/me")
    if me["full_name"] != name:
        raise AssertionError(f"expected full_name {name!r}, profile shows {me['full_name']!r}")
