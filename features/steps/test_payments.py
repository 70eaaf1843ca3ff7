"""Payments: declines, fallback gateway, total outage (features/payments)."""

from __future__ import annotations

import httpx
import pytest
from pytest_bdd import given, scenarios, then

from features.steps.conftest import set_flag
from features.support.api import Account, expect, payments

scenarios("payments")


@given("every payment gateway is down")
def every_gateway_down(request: pytest.FixtureRequest, http: httpx.Client, admin: Account) -> None:
    set_flag(request, http, admin, "payment_primary_down", True)
    set_flag(request, http, admin, "payment_fallback_down", True)


@then("the order was charged through the fallback gateway")
def charged_by_fallback(http: httpx.Client, admin: Account, response: httpx.Response) -> None:
    order = expect(response, 201, "checking out")
    ledger = payments(http, admin, order["id"])
    charges = [p for p in ledger if p["kind"] == "charge" and p["status"] == "succeeded"]
    if len(charges) != 1 or "fallback" not in str(charges[0].get("provider", "")).lower():
        raise AssertionError(
            f"expected one successful charge by the fallback gateway, the ledger is {ledger}"
        )
