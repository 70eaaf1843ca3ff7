"""Regressions (issue 14): a refund is never lost, and never claimed when it was not made.

Cancelling used to count any answer of the gateway as a refund, so a declined refund
cancelled the order and restocked it while the gateway kept the capture; and a refund whose
answer was lost (a timeout after sending) left the order confirmed while the gateway may have
refunded it, with nothing to settle it. The sweep's uncertain-charge pass likewise recorded a
declined refund as made. Each case is judged against the gateway's own ledger.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reference_service.events.models import OutboxEvent
from reference_service.orders.reconcile import sweep
from reference_service.payments.simulator import Faults as GatewayFaults
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-PAY-003")

# Each attempt gives up after 0.3 s; a stalled gateway answers after 1 s.
QUICK = {"payment_attempt_timeout_s": 0.3, "payment_attempts": 2}
STALLED = 1000


class Shop:
    """A customer with one confirmed order of 2 units (of 5 in stock) paid at the primary."""

    def __init__(self, make_client: AppFactory) -> None:
        self.app, self.client = make_client(**QUICK)
        self.boss, self.headers = admin(self.client), customer(self.client)
        self.item = product(self.client, self.boss, stock=5, amount=1234)
        placed = order(self.client, self.headers, [{"product_id": self.item["id"], "quantity": 2}])
        assert placed.status_code == 201, placed.text
        assert placed.json()["payment"]["provider"] == "primary"
        self.order_id = placed.json()["id"]

    def faults(self, **knobs: Any) -> None:
        ledger(self.app, "primary").faults = GatewayFaults(**knobs)

    def cancel(self) -> Any:
        return self.client.post(f"/orders/{self.order_id}/cancel", headers=self.headers)

    def order(self) -> tuple[str, str]:
        body = self.client.get(f"/orders/{self.order_id}", headers=self.headers).json()
        return body["status"], body["payment"]["status"]

    def available(self) -> int:
        return int(self.client.get(f"/products/{self.item['id']}").json()["available"])

    def refunds(self) -> list[tuple[str, int, str]]:
        """The primary's ledger of refunds: (key, amount, status)."""
        book = _ledger(self.app, "primary")
        assert _ledger(self.app, "fallback")["refunds"] == []
        return [(r["key"], r["amount"], r["status"]) for r in book["refunds"]]

    def attempts(self) -> list[tuple[str, str]]:
        url = f"/admin/orders/{self.order_id}/payments"
        return [(a["kind"], a["status"]) for a in self.client.get(url, headers=self.boss).json()]

    def metrics(self) -> str:
        return self.client.get("/metrics").text


def _ledger(app: FastAPI, gateway: str) -> dict[str, Any]:
    """GET /ledger of an in-process gateway simulator."""
    with TestClient(app.state.runtime.simulators[gateway]) as http:
        response = http.get("/ledger")
    assert response.status_code == 200
    return dict(response.json())


def _sweep(app: FastAPI) -> dict[str, int]:
    runtime = app.state.runtime
    return asyncio.run(
        sweep(
            runtime.sessions,
            runtime.payments,
            reservation_ttl_s=0,
            on_stock_change=runtime.catalog.stock_changed,
            metrics=runtime.metrics,
        )
    )


def _events(app: FastAPI, order_id: str) -> dict[str, int]:
    """How many of each event the outbox holds for the order."""

    async def count() -> dict[str, int]:
        async with app.state.runtime.sessions() as session:
            rows = await session.execute(
                select(OutboxEvent.type, func.count())
                .where(OutboxEvent.aggregate_id == order_id)
                .group_by(OutboxEvent.type)
            )
            return {kind: int(n) for kind, n in rows}

    return asyncio.run(count())


def _refund_key(order_id: str) -> str:
    return f"order-{uuid.UUID(order_id)}-refund"


def test_a_declined_refund_leaves_the_order_confirmed_and_says_so(
    make_client: AppFactory,
) -> None:
    shop = Shop(make_client)
    shop.faults(refund_status=404)  # the gateway answers the refund with a decline
    response = shop.cancel()
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/refund-declined")
    assert "nothing was refunded" in problem["detail"]
    assert problem["order_id"] == shop.order_id
    assert shop.order() == ("confirmed", "captured")
    assert shop.available() == 3  # no restock
    assert shop.refunds() == []
    assert shop.attempts() == [("charge", "succeeded"), ("refund", "failed")]
    assert _sweep(shop.app)["cancelled"] == 0  # nothing left for the sweep to claim
    assert shop.order() == ("confirmed", "captured")
    # Once the gateway refunds, cancelling works as usual, with the same refund key.
    shop.faults()
    assert shop.cancel().status_code == 200
    assert (shop.order(), shop.available()) == (("cancelled", "refunded"), 5)
    assert shop.refunds() == [(_refund_key(shop.order_id), 2468, "succeeded")]


def test_a_stalled_refund_is_settled_by_the_sweep_exactly_once(make_client: AppFactory) -> None:
    shop = Shop(make_client)
    shop.faults(refund_delay_ms=STALLED)  # refunded, but the answer comes too late
    response = shop.cancel()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    detail = response.json()["detail"]
    assert "being settled" in detail
    assert "unchanged" not in detail
    assert shop.order() == ("confirmed", "refund_pending")
    assert shop.available() == 3  # restocked only once the refund is confirmed
    assert shop.refunds() == [(_refund_key(shop.order_id), 2468, "succeeded")]
    shop.faults()
    assert _sweep(shop.app)["cancelled"] == 1
    assert shop.order() == ("cancelled", "refunded")
    assert shop.available() == 5
    assert _sweep(shop.app)["cancelled"] == 0
    assert shop.cancel().status_code == 409  # already cancelled
    assert shop.available() == 5
    assert shop.refunds() == [(_refund_key(shop.order_id), 2468, "succeeded")]  # one refund
    events = _events(shop.app, shop.order_id)
    assert (events["orders.cancelled"], events["inventory.released"]) == (1, 1)
    assert shop.attempts() == [("charge", "succeeded"), ("refund", "succeeded")]


def test_a_retried_cancel_completes_a_pending_refund_once(make_client: AppFactory) -> None:
    shop = Shop(make_client)
    shop.faults(refund_delay_ms=STALLED)
    assert shop.cancel().status_code == 503
    shop.faults(down=True)  # refused before processing: the earlier refund is still unknown
    retried = shop.cancel()
    assert retried.status_code == 503
    assert "being settled" in retried.json()["detail"]
    assert shop.order() == ("confirmed", "refund_pending")
    shop.faults()
    cancelled = shop.cancel()
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _sweep(shop.app)["cancelled"] == 0
    assert shop.available() == 5
    assert shop.refunds() == [(_refund_key(shop.order_id), 2468, "succeeded")]


def test_a_refund_refused_before_processing_changes_nothing(make_client: AppFactory) -> None:
    shop = Shop(make_client)
    shop.faults(refund_status=503)  # the gateway refuses before processing
    response = shop.cancel()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    detail = response.json()["detail"]
    assert "unchanged" in detail
    assert "being settled" not in detail
    assert shop.order() == ("confirmed", "captured")
    assert shop.available() == 3
    assert shop.refunds() == []
    assert shop.attempts() == [("charge", "succeeded")]
    expected = 'payments_total{kind="refund",outcome="unavailable",provider="primary"} 1.0'
    assert expected in shop.metrics()
    shop.faults()
    assert _sweep(shop.app)["cancelled"] == 0  # nothing was left for the sweep
    assert shop.order() == ("confirmed", "captured")


def test_the_sweep_never_claims_a_declined_refund_of_an_uncertain_charge(
    make_client: AppFactory,
) -> None:
    app, client = make_client(**QUICK)
    headers, boss = customer(client), admin(client)
    item = product(client, boss, stock=5, amount=1234)
    primary = ledger(app, "primary")
    primary.faults = GatewayFaults(post_charge_delay_ms=STALLED, lookup_status=503)
    placed = order(client, headers, [{"product_id": item["id"], "quantity": 1}])
    assert placed.status_code == 503
    order_id = client.get("/orders", headers=headers).json()["items"][0]["id"]
    primary.faults = GatewayFaults(refund_status=404)  # the capture is found; its refund declined
    done = _sweep(app)
    assert done["refunded"] == 0
    assert done["errors"] == 1  # logged and counted
    assert 'reconcile_errors_total{pass="uncertain"} 1.0' in client.get("/metrics").text
    settled = client.get(f"/orders/{order_id}", headers=headers).json()
    assert (settled["status"], settled["payment"]["status"]) == ("failed", "refund_declined")
    assert _ledger(app, "primary")["refunds"] == []
    assert primary.captures == 1
    attempts = client.get(f"/admin/orders/{order_id}/payments", headers=boss).json()
    assert [(a["kind"], a["status"]) for a in attempts][-1] == ("refund", "failed")
    assert not any(a["kind"] == "refund" and a["status"] == "succeeded" for a in attempts)
    # Marked for a person: later passes neither retry it nor count it again.
    primary.faults = GatewayFaults()
    later = _sweep(app)
    assert (later["refunded"], later["errors"]) == (0, 0)
    assert _ledger(app, "primary")["refunds"] == []
    assert 'reconcile_errors_total{pass="uncertain"} 1.0' in client.get("/metrics").text
