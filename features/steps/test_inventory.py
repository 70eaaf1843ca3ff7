"""Inventory: no oversell, even when customers rush (features/inventory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from pytest_bdd import given, parsers, scenarios, then, when

from features.support.api import Account, all_at_once, checkout, describe, new_customer

scenarios("inventory")


@given(parsers.parse("{count:d} registered customers"), target_fixture="customers")
def many_customers(http: httpx.Client, count: int) -> list[Account]:
    return [new_customer(http, prefix="rush") for _ in range(count)]


@when(
    parsers.parse("each of them tries to buy {quantity:d} of the product twice at the same moment"),
    target_fixture="rush",
)
def rush(
    http: httpx.Client, customers: list[Account], product: dict[str, Any], quantity: int
) -> list[httpx.Response]:
    items = [{"product_id": product["id"], "quantity": quantity}]

    def buyer(account: Account) -> Callable[[], httpx.Response]:
        return lambda: checkout(http, account, items=items)

    return all_at_once([buyer(c) for c in customers for _ in range(2)])


@then(parsers.parse("exactly {count:d} of those orders are confirmed"))
def exactly_confirmed(rush: list[httpx.Response], count: int) -> None:
    confirmed = [r for r in rush if r.status_code == 201]
    if len(confirmed) != count:
        statuses = sorted(r.status_code for r in rush)
        raise AssertionError(
            f"expected {count} confirmed orders, got {len(confirmed)}; statuses {statuses}"
        )


@then("the others were told it is out of stock")
def others_out_of_stock(rush: list[httpx.Response]) -> None:
    for response in rush:
        if response.status_code == 201:
            continue
        problem_type = str(response.json().get("type", "")) if response.status_code == 409 else ""
        if not problem_type.endswith("out-of-stock"):
            raise AssertionError(f"expected 409 out-of-stock, got {describe(response)}")
