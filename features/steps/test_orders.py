"""Checkout, idempotency and cancellation (features/orders)."""

from __future__ import annotations

from typing import Any

import httpx
from pytest_bdd import given, parsers, scenarios, then, when

from features.steps.conftest import list_orders
from features.support.api import Account, all_at_once, checkout, describe, expect, payments, resend

scenarios("orders")

SPECIAL_KEYS = {"<empty>": "", "<300 characters>": "k" * 300}


def order_id(response: httpx.Response) -> Any:
    """The id of the order a 201 response describes."""
    return expect(response, 201, "checking out")["id"]


def idempotency_key(response: httpx.Response) -> str:
    """The key a checkout request was sent with."""
    return response.request.headers["Idempotency-Key"]


# --- checkout -----------------------------------------------------------------------------


@then(parsers.parse("the order is confirmed with a total of {amount:d} {currency}"))
def order_confirmed_with_total(response: httpx.Response, amount: int, currency: str) -> None:
    order = expect(response, 201, "checking out")
    if order["status"] != "confirmed":
        raise AssertionError(f"expected status confirmed, the order is {order['status']}")
    if order["total"] != {"amount": amount, "currency": currency}:
        raise AssertionError(f"expected total {amount} {currency}, the order says {order['total']}")


@then("the response points at the new order")
def points_at_order(http: httpx.Client, customer: Account, response: httpx.Response) -> None:
    location = response.headers.get("Location", "")
    ident = str(order_id(response))
    if not location.rstrip("/").endswith(f"/orders/{ident}"):
        raise AssertionError(f"expected Location …/orders/{ident}, got {location!r}")
    expect(http.get(location, headers=customer.headers), 200, "following Location")


@then("the customer's orders include the order")
def orders_include(http: httpx.Client, customer: Account, response: httpx.Response) -> None:
    ident = order_id(response)
    if ident not in [o["id"] for o in list_orders(http, customer)]:
        raise AssertionError(f"order {ident} is not in the customer's order list")


@when("someone checks out without credentials", target_fixture="response")
def anonymous_checkout(http: httpx.Client) -> httpx.Response:
    return http.post(
        "/orders", json={"payment": {"token": "tok_visa"}}, headers={"Idempotency-Key": "anon-1"}
    )


# --- idempotency --------------------------------------------------------------------------


@when("the customer sends the same checkout again", target_fixture="response")
def send_again(http: httpx.Client, placed: httpx.Response) -> httpx.Response:
    return resend(http, placed)


@then("the response is marked as an idempotent replay")
def marked_replay(response: httpx.Response) -> None:
    if response.headers.get("Idempotent-Replayed", "").lower() != "true":
        raise AssertionError(f"expected header Idempotent-Replayed: true on {describe(response)}")


@then("the response describes the same order")
def same_order(response: httpx.Response, placed: httpx.Response) -> None:
    if order_id(response) != order_id(placed):
        raise AssertionError(f"replay describes order {order_id(response)}, not {order_id(placed)}")
    if response.json() != placed.json():
        raise AssertionError(f"replayed body differs: {response.json()} vs {placed.json()}")


@when(
    parsers.parse("the customer retries the same checkout {times:d} times"),
    target_fixture="retries",
)
def retry_times(http: httpx.Client, placed: httpx.Response, times: int) -> list[httpx.Response]:
    return [resend(http, placed) for _ in range(times)]


@then("every retry describes the same order")
def retries_same(retries: list[httpx.Response], placed: httpx.Response) -> None:
    first = order_id(placed)
    for number, retry in enumerate(retries, start=1):
        if order_id(retry) != first:
            raise AssertionError(f"retry {number} describes order {order_id(retry)}, not {first}")


@then("the order has exactly one successful charge")
def one_charge(http: httpx.Client, admin: Account, placed: httpx.Response) -> None:
    ledger = payments(http, admin, order_id(placed))
    charges = [p for p in ledger if p["kind"] == "charge" and p["status"] == "succeeded"]
    if len(charges) != 1:
        raise AssertionError(f"expected exactly one successful charge, the ledger is {ledger}")


@when(
    parsers.parse("the customer reuses that key to check out {quantity:d} of the product"),
    target_fixture="response",
)
def reuse_key(
    http: httpx.Client,
    customer: Account,
    product: dict[str, Any],
    placed: httpx.Response,
    quantity: int,
) -> httpx.Response:
    items = [{"product_id": product["id"], "quantity": quantity}]
    return checkout(http, customer, items=items, key=idempotency_key(placed))


@when(
    parsers.parse("the customer sends the same checkout {times:d} times at once"),
    target_fixture="duplicates",
)
def duplicates_at_once(http: httpx.Client, customer: Account, times: int) -> list[httpx.Response]:
    key = f"dup-{customer.id}"
    return all_at_once([lambda: checkout(http, customer, key=key) for _ in range(times)])


@then("exactly one order was created by those requests")
def one_order_created(
    http: httpx.Client, customer: Account, duplicates: list[httpx.Response]
) -> None:
    created = {r.json()["id"] for r in duplicates if r.status_code == 201}
    if len(created) != 1:
        raise AssertionError(
            f"expected one order id among the 201s, got {created}; statuses "
            f"{[r.status_code for r in duplicates]}"
        )
    orders = list_orders(http, customer)
    if len(orders) != 1:
        raise AssertionError(f"expected the customer to have 1 order, they have {len(orders)}")


@then("every other duplicate was answered 409 or with the same order")
def others_conflict_or_replay(duplicates: list[httpx.Response]) -> None:
    odd = [describe(r) for r in duplicates if r.status_code not in {201, 409}]
    if odd:
        raise AssertionError(f"duplicates must get 201 (same order) or 409, got: {odd}")


@when("the customer checks out without an Idempotency-Key", target_fixture="response")
def without_key(http: httpx.Client, customer: Account) -> httpx.Response:
    return http.post("/orders", json={"payment": {"token": "tok_visa"}}, headers=customer.headers)


@when(
    parsers.parse('the customer checks out with the Idempotency-Key "{key}"'),
    target_fixture="response",
)
def with_key(http: httpx.Client, customer: Account, key: str) -> httpx.Response:
    return checkout(http, customer, key=SPECIAL_KEYS.get(key, key))


@when("the other customer checks out with the same Idempotency-Key", target_fixture="response")
def other_same_key(
    http: httpx.Client, other_customer: Account, placed: httpx.Response
) -> httpx.Response:
    return checkout(http, other_customer, key=idempotency_key(placed))


@then("the response is not the first customer's order")
def not_first_order(response: httpx.Response, placed: httpx.Response) -> None:
    if order_id(response) == order_id(placed):
        raise AssertionError("another customer's key collided: they got the first customer's order")


# --- cancellation -------------------------------------------------------------------------


def cancel(http: httpx.Client, account: Account, order: dict[str, Any]) -> httpx.Response:
    """POST /orders/{id}/cancel as the account."""
    return http.post(f"/orders/{order['id']}/cancel", headers=account.headers)


@when("the customer cancels the order", target_fixture="response")
def customer_cancels(
    http: httpx.Client, customer: Account, order: dict[str, Any]
) -> httpx.Response:
    return cancel(http, customer, order)


@given("the customer has cancelled the order")
def customer_cancelled(http: httpx.Client, customer: Account, order: dict[str, Any]) -> None:
    expect(cancel(http, customer, order), 200, "cancelling the order")


@when("the other customer cancels the order", target_fixture="response")
def other_cancels(
    http: httpx.Client, other_customer: Account, order: dict[str, Any]
) -> httpx.Response:
    return cancel(http, other_customer, order)


@then(parsers.parse('the order status is "{status}"'))
def order_status(response: httpx.Response, status: str) -> None:
    body = response.json()
    if body.get("status") != status:
        raise AssertionError(f"expected order status {status!r}, got {body.get('status')!r}")


def _amount(value: Any) -> int:
    return int(value["amount"] if isinstance(value, dict) else value)


@then(parsers.parse("the order was charged and refunded {amount:d} {currency}"))
def charged_and_refunded(
    http: httpx.Client, admin: Account, order: dict[str, Any], amount: int, currency: str
) -> None:
    ledger = payments(http, admin, order["id"])
    done = {(p["kind"], _amount(p["amount"])) for p in ledger if p["status"] == "succeeded"}
    if done != {("charge", amount), ("refund", amount)}:
        raise AssertionError(
            f"expected one charge and one refund of {amount} {currency}, the ledger is {ledger}"
        )
