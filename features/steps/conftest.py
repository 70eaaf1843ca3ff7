"""Steps shared by several domains: accounts, products, carts, checkout and response checks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then, when

from assay.ledger import LedgerError, check_target
from assay.target import Target
from features.support.api import (
    PROBLEM_JSON,
    Account,
    checkout,
    create_product,
    describe,
    expect,
    new_customer,
    product,
    register,
    unique,
)

# --- accounts and products ----------------------------------------------------------------


@given("a registered customer", target_fixture="customer")
def a_registered_customer(http: httpx.Client) -> Account:
    return new_customer(http)


def new_email() -> str:
    """An address no scenario has used."""
    return f"{unique('visitor')}@example.com"


@given("a visitor registered with a new email", target_fixture="visitor_email")
def visitor_registered(http: httpx.Client) -> str:
    email = new_email()
    expect(register(http, email), 201, f"registering {email}")
    return email


@given("another registered customer", target_fixture="other_customer")
def another_registered_customer(http: httpx.Client) -> Account:
    return new_customer(http, prefix="other")


@given(
    parsers.parse("a product priced {price:d} {currency} with {stock:d} in stock"),
    target_fixture="product",
)
def a_product(
    http: httpx.Client, admin: Account, price: int, currency: str, stock: int
) -> dict[str, Any]:
    return create_product(http, admin, price=price, currency=currency, stock=stock)


def put_in_cart(
    http: httpx.Client, account: Account, product_id: object, quantity: int
) -> httpx.Response:
    """PUT /cart/items/{id} for the account."""
    return http.put(
        f"/cart/items/{product_id}", json={"quantity": quantity}, headers=account.headers
    )


@given(parsers.parse("the customer has {quantity:d} of the product in the cart"))
def customer_has_in_cart(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int
) -> None:
    expect(
        put_in_cart(http, customer, product["id"], quantity), 200, "putting the product in the cart"
    )


@given(parsers.parse("the other customer has {quantity:d} of the product in the cart"))
def other_has_in_cart(
    http: httpx.Client, other_customer: Account, product: dict[str, Any], quantity: int
) -> None:
    expect(
        put_in_cart(http, other_customer, product["id"], quantity),
        200,
        "putting the product in the cart",
    )


@given(
    parsers.parse("the customer has an order for {quantity:d} of the product"),
    target_fixture="order",
)
def customer_has_order(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int
) -> dict[str, Any]:
    items = [{"product_id": product["id"], "quantity": quantity}]
    placed: dict[str, Any] = expect(checkout(http, customer, items=items), 201, "placing an order")
    return placed


# --- requests -----------------------------------------------------------------------------


@when(
    parsers.re(
        r"someone sends (?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/\S*) without credentials"
    ),
    target_fixture="response",
)
def anonymous_request(http: httpx.Client, method: str, path: str) -> httpx.Response:
    body: dict[str, object] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return http.request(method, path, json=body)


@when(
    parsers.parse('the customer checks out with payment token "{token}"'), target_fixture="response"
)
def customer_checks_out_cart(http: httpx.Client, customer: Account, token: str) -> httpx.Response:
    return checkout(http, customer, token=token)


@when(
    parsers.parse(
        'the customer checks out {quantity:d} of the product with payment token "{token}"'
    ),
    target_fixture="response",
)
def customer_checks_out_items(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int, token: str
) -> httpx.Response:
    return checkout(
        http, customer, items=[{"product_id": product["id"], "quantity": quantity}], token=token
    )


@given(
    parsers.parse('the customer has checked out with payment token "{token}"'),
    target_fixture="placed",
)
def customer_has_checked_out(http: httpx.Client, customer: Account, token: str) -> httpx.Response:
    response = checkout(http, customer, token=token)
    expect(response, 201, "checking out")
    return response


@when(parsers.parse("the admin sets the product's stock to {stock:d}"), target_fixture="response")
def admin_sets_stock(
    http: httpx.Client, admin: Account, product: dict[str, Any], stock: int
) -> httpx.Response:
    return http.put(
        f"/admin/inventory/{product['id']}", json={"stock": stock}, headers=admin.headers
    )


@when(
    parsers.parse(
        "the admin creates a product priced {price:d} {currency} with {stock:d} in stock"
    ),
    target_fixture="response",
)
def admin_creates_product(
    http: httpx.Client, admin: Account, price: int, currency: str, stock: int
) -> httpx.Response:
    sku = unique("SKU").upper()
    body = {
        "sku": sku,
        "name": f"Admin product {sku}",
        "category": unique("cat"),
        "price": {"amount": price, "currency": currency},
        "stock": stock,
    }
    return http.post("/admin/products", json=body, headers=admin.headers)


# --- feature flags (only in @exclusive scenarios) ----------------------------------------


def flag_value(raw: str) -> Any:
    """A flag value written in a step (true, false, 400, 0.5 are JSON literals)."""
    return json.loads(raw)


def set_flag(
    request: pytest.FixtureRequest, http: httpx.Client, admin: Account, name: str, value: Any
) -> None:
    """Set a flag for this scenario and put the old value back when it ends, pass or fail."""
    if request.node.get_closest_marker("exclusive") is None:
        raise AssertionError("flags change every request; tag the scenario @exclusive")
    flags = expect(http.get("/admin/flags", headers=admin.headers), 200, "reading flags")
    before = flags_as_dict(flags).get(name)

    def restore() -> None:
        http.put(f"/admin/flags/{name}", json={"value": before}, headers=admin.headers)

    request.addfinalizer(restore)
    answer = http.put(f"/admin/flags/{name}", json={"value": value}, headers=admin.headers)
    if answer.status_code == 403 and "fault-injection-disabled" in answer.text:
        # A production-like target refuses faults by design (FAULT_INJECTION off, ADR-016):
        # the scenario cannot run there, which is not a failure of the target.
        pytest.skip(f"the target has fault injection off; {name} cannot be set")
    expect(answer, 200, f"setting flag {name}")


def flags_as_dict(flags: Any) -> dict[str, Any]:
    """Flag name -> value, whichever of the list or mapping shapes the target answers with."""
    if isinstance(flags, dict) and "items" in flags:
        flags = flags["items"]
    if isinstance(flags, list):
        return {str(f["name"]): f.get("value") for f in flags}
    if isinstance(flags, dict):
        return {str(k): (v.get("value") if isinstance(v, dict) else v) for k, v in flags.items()}
    raise AssertionError(f"unexpected flags shape: {flags!r}")


@given(parsers.parse('the feature flag "{name}" is set to {value}'))
def flag_is_set(
    request: pytest.FixtureRequest, http: httpx.Client, admin: Account, name: str, value: str
) -> None:
    set_flag(request, http, admin, name, flag_value(value))


# --- response checks ----------------------------------------------------------------------


@then(parsers.parse("the response status is {status:d}"))
def response_status(response: httpx.Response, status: int) -> None:
    expect(response, status, "the response")


@then(parsers.parse("the response status is one of {statuses}"))
def response_status_one_of(response: httpx.Response, statuses: str) -> None:
    expect(response, [int(s) for s in statuses.split(",")], "the response")


@then("the response is a client error")
def response_client_error(response: httpx.Response) -> None:
    if not 400 <= response.status_code < 500:
        raise AssertionError(f"expected a 4xx client error, got {describe(response)}")


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """The body as an RFC 9457 problem, checked."""
    kind = response.headers.get("content-type", "").split(";")[0]
    if kind != PROBLEM_JSON:
        raise AssertionError(f"expected {PROBLEM_JSON}, got {describe(response)}")
    body: dict[str, Any] = response.json()
    missing = {"type", "title", "status"} - body.keys()
    if missing:
        raise AssertionError(f"problem lacks {sorted(missing)}: {body}")
    if status is not None and body["status"] != status:
        raise AssertionError(f"problem says status {body['status']}, expected {status}")
    text = json.dumps(body).lower()
    for leak in ("traceback", "sqlalchemy", 'file "/'):
        if leak in text:
            raise AssertionError(f"problem leaks internals ({leak}): {body}")
    return body


@then(parsers.parse("the response is a problem with status {status:d}"))
def response_is_problem_with_status(response: httpx.Response, status: int) -> None:
    assert_problem(response, status)


@then("the response is a problem")
def response_is_problem(response: httpx.Response) -> None:
    assert_problem(response)


@then(parsers.parse('the problem type ends with "{suffix}"'))
def problem_type_ends_with(response: httpx.Response, suffix: str) -> None:
    problem_type = str(assert_problem(response).get("type", ""))
    if not problem_type.endswith(suffix):
        raise AssertionError(f"expected a problem type ending in {suffix!r}, got {problem_type!r}")


@then("the response says when to retry")
def response_has_retry_after(response: httpx.Response) -> None:
    retry_after = response.headers.get("Retry-After", "")
    if not retry_after.strip().isdigit():
        raise AssertionError(
            f"expected a Retry-After header in seconds, got {retry_after!r}: {describe(response)}"
        )


@then(parsers.parse("the product has {available:d} available"))
def product_has_available(http: httpx.Client, product: dict[str, Any], available: int) -> None:
    seen = product_available(http, product["id"])
    if seen != available:
        raise AssertionError(
            f"expected product {product['id']} to have {available} available, it has {seen}"
        )


def product_available(http: httpx.Client, product_id: object) -> int:
    """Units a shopper sees as available."""
    return int(product(http, product_id)["available"])


def list_orders(http: httpx.Client, account: Account) -> list[dict[str, Any]]:
    """The account's own orders (GET /orders), following cursors if the list pages."""
    found = expect(http.get("/orders", headers=account.headers), 200, "listing orders")
    items: list[dict[str, Any]] = found["items"] if isinstance(found, dict) else found
    return items


@then(parsers.re(r"the customer has (?P<count>\d+) orders?"))
def customer_has_orders(http: httpx.Client, customer: Account, count: str) -> None:
    orders = list_orders(http, customer)
    if len(orders) != int(count):
        statuses = [o.get("status") for o in orders]
        raise AssertionError(
            f"expected {count} order(s), the customer has {len(orders)}: {statuses}"
        )


@then("the customer has no confirmed order")
def customer_has_no_confirmed_order(http: httpx.Client, customer: Account) -> None:
    confirmed = [o for o in list_orders(http, customer) if o.get("status") == "confirmed"]
    if confirmed:
        raise AssertionError(f"expected no confirmed order, found {[o['id'] for o in confirmed]}")


def elapsed_ms(response: httpx.Response) -> float:
    """How long the exchange took, as httpx measured it."""
    return response.elapsed.total_seconds() * 1000


# --- money: the gateways' own ledgers -------------------------------------------------------

LEDGER_SETTLE_TIMEOUT_S = 20.0


@then("the gateways' ledgers agree with the service")
def ledgers_agree(target: Target, admin: Account, customer: Account) -> None:
    """The customer's orders against every gateway's ledger: one capture per confirmed order,
    of its total; nothing kept for a failed or cancelled one; no refund without a capture."""
    if not target.ledgers:
        pytest.skip("needs the target's gateway ledgers: set ASSAY_GATEWAY_LEDGERS")
    try:
        report = check_target(
            target, user_ids=[customer.id], settle_timeout_s=LEDGER_SETTLE_TIMEOUT_S
        )
    except LedgerError as exc:
        raise AssertionError(f"the gateways' ledgers could not be read: {exc}") from exc
    if not report.held:
        shown = [*report.mismatches, *report.unsettled][:5]
        raise AssertionError(
            report.headline() + "".join(f"\n  {m.kind}: {m.detail}" for m in shown)
        )
