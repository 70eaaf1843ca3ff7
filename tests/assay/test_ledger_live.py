"""The ledger check over HTTP: a managed target's own gateway processes against its orders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from assay.ledger import MismatchKind, check_target
from assay.target import Target, managed_target

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """The reference service with its two gateway simulators as their own processes."""
    # A shared 2-core machine can take minutes to import and start three processes.
    with managed_target(ready_timeout_s=240) as started:
        yield started


def _checkout(target: Target) -> dict[str, object]:
    """A new customer buys 2 of the first product in stock; the confirmed order."""
    email = f"ledger-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=target.base_url, timeout=15) as http:
        password = "correct-horse-battery"
        registered = http.post(
            "/auth/register",
            json={"email": email, "password": password, "full_name": "Ledger Check"},
        )
        assert registered.status_code == 201, registered.text
        token = http.post("/auth/token", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        products = http.get("/products", params={"limit": 50}).json()["items"]
        product = next(p for p in products if p["available"] >= 2)
        placed = http.post(
            "/orders",
            json={
                "items": [{"product_id": product["id"], "quantity": 2}],
                "payment": {"token": "tok_visa"},
            },
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 201, placed.text
        order: dict[str, object] = placed.json()
        return order


def test_a_paid_order_reconciles_with_its_one_capture(target: Target) -> None:
    before = check_target(target, settle_timeout_s=10)
    order = _checkout(target)
    after = check_target(target, settle_timeout_s=10)
    assert after.held, after.headline()
    assert after.captures == before.captures + 1
    assert after.confirmed_orders == before.confirmed_orders + 1
    total = order["total"]
    assert isinstance(total, dict)
    gained = after.captured_amount[total["currency"]] - before.captured_amount.get(
        total["currency"], 0
    )
    assert gained == total["amount"]


def test_a_capture_no_order_knows_of_is_found_at_its_gateway(target: Target) -> None:
    key = f"stray-{uuid.uuid4().hex}"
    charged = httpx.post(
        f"{target.ledgers['fallback']}/charges",
        json={"amount": 777, "currency": "USD", "token": "tok_visa"},
        headers={"Idempotency-Key": key},
        timeout=10,
    )
    assert charged.status_code == 201, charged.text
    fresh = check_target(target, settle_timeout_s=0)
    assert [m.kind for m in fresh.unsettled if m.key == key] == [MismatchKind.CAPTURE_WITHOUT_ORDER]
    judged = check_target(target, window_s=0, settle_timeout_s=0)
    stray = [m for m in judged.mismatches if m.key == key]
    assert [(m.kind, m.gateway) for m in stray] == [
        (MismatchKind.CAPTURE_WITHOUT_ORDER, "fallback")
    ]
    assert not judged.held
