"""The cart (features/cart)."""

from __future__ import annotations

from typing import Any

import httpx
from pytest_bdd import parsers, scenarios, then, when

from features.steps.conftest import put_in_cart
from features.support.api import Account, expect

scenarios("cart")

UNKNOWN_PRODUCT_ID = 2_000_000_000


@when(
    parsers.parse("the customer puts {quantity:d} of the product in the cart"),
    target_fixture="response",
)
def put_product(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int
) -> httpx.Response:
    return put_in_cart(http, customer, product["id"], quantity)


@when(
    parsers.parse("the customer puts {quantity:d} of an unknown product in the cart"),
    target_fixture="response",
)
def put_unknown(http: httpx.Client, customer: Account, quantity: int) -> httpx.Response:
    return put_in_cart(http, customer, UNKNOWN_PRODUCT_ID, quantity)


@when("the customer removes the product from the cart", target_fixture="response")
def remove_product(
    http: httpx.Client, customer: Account, product: dict[str, Any]
) -> httpx.Response:
    return http.delete(f"/cart/items/{product['id']}", headers=customer.headers)


@when("the other customer looks at their cart", target_fixture="response")
def other_looks(http: httpx.Client, other_customer: Account) -> httpx.Response:
    return http.get("/cart", headers=other_customer.headers)


def cart_lines(http: httpx.Client, account: Account) -> dict[Any, int]:
    """product_id -> quantity in the account's cart."""
    cart = expect(http.get("/cart", headers=account.headers), 200, "reading the cart")
    return {line["product_id"]: line["quantity"] for line in cart["items"]}


@then(parsers.parse("the cart holds {quantity:d} of the product"))
def cart_holds(
    http: httpx.Client, customer: Account, product: dict[str, Any], quantity: int
) -> None:
    lines = cart_lines(http, customer)
    if lines.get(product["id"]) != quantity:
        raise AssertionError(
            f"expected {quantity} of product {product['id']} in the cart, cart is {lines}"
        )


@then("the customer's cart does not hold the product")
def customer_cart_lacks(http: httpx.Client, customer: Account, product: dict[str, Any]) -> None:
    lines = cart_lines(http, customer)
    if product["id"] in lines:
        raise AssertionError(f"expected no product {product['id']} in the cart, cart is {lines}")


@then("the cart they see does not hold the product")
def seen_cart_lacks(response: httpx.Response, product: dict[str, Any]) -> None:
    cart = expect(response, 200, "reading the cart")
    ids = [line["product_id"] for line in cart["items"]]
    if product["id"] in ids:
        raise AssertionError(f"another customer's cart shows product {product['id']}: {cart}")
