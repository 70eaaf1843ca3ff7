"""The payment gateway as a dependency that fails: fallback, clean 503s, one capture, breaker."""

from __future__ import annotations

import pytest

from reference_service.payments.simulator import Faults as GatewayFaults
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory, ledger

pytestmark = pytest.mark.req("REQ-PAY-002")


def test_primary_outage_falls_back(make_client: AppFactory) -> None:
    app, client = make_client()
    ledger(app, "primary").faults = GatewayFaults(down=True)
    response = order(client, customer(client), [{"product_id": 4, "quantity": 1}])
    assert response.status_code == 201
    assert response.json()["payment"]["provider"] == "fallback"
    assert (ledger(app, "primary").captures, ledger(app, "fallback").captures) == (0, 1)


def test_primary_down_flag_falls_back(make_client: AppFactory) -> None:
    app, client = make_client()
    boss = admin(client)
    flagged = client.put("/admin/flags/payment_primary_down", json={"value": True}, headers=boss)
    assert flagged.status_code == 200
    response = order(client, customer(client), [{"product_id": 4, "quantity": 1}])
    assert response.json()["payment"]["provider"] == "fallback"
    assert ledger(app, "primary").requests == 0


def test_both_down_is_a_clean_503_with_nothing_held(make_client: AppFactory) -> None:
    app, client = make_client()
    boss, headers = admin(client), customer(client)
    item = product(client, boss, stock=3)
    for name in ("primary", "fallback"):
        ledger(app, name).faults = GatewayFaults(down=True)
    items = [{"product_id": item["id"], "quantity": 2}]
    response = order(client, headers, items, key="both-down")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["type"].endswith("payment-unavailable")
    assert client.get(f"/products/{item['id']}").json()["available"] == 3
    assert ledger(app, "primary").captures == ledger(app, "fallback").captures == 0
    assert [o["status"] for o in client.get("/orders", headers=headers).json()["items"]] == [
        "failed"
    ]
    for name in ("primary", "fallback"):  # recovery: the same key may be retried
        ledger(app, name).faults = GatewayFaults()
    app.state.runtime.gateways[0].breaker.reset()
    assert order(client, headers, items, key="both-down").status_code == 201


@pytest.mark.req("REQ-PAY-003")
def test_a_charge_that_timed_out_is_reconciled_not_repeated(make_client: AppFactory) -> None:
    app, client = make_client(payment_attempt_timeout_s=0.3, payment_attempts=2)
    # The gateway records the charge, then answers too late: the client only sees timeouts.
    ledger(app, "primary").faults = GatewayFaults(post_charge_delay_ms=1000)
    response = order(client, customer(client), [{"product_id": 9, "quantity": 1}])
    assert response.status_code == 201
    assert response.json()["payment"]["provider"] == "primary"
    assert ledger(app, "primary").captures == 1
    assert ledger(app, "fallback").requests == 0


def test_breaker_opens_after_the_threshold_and_fails_fast(make_client: AppFactory) -> None:
    app, client = make_client(breaker_failure_threshold=3, payment_attempts=1)
    primary = ledger(app, "primary")
    primary.faults = GatewayFaults(down=True)
    headers = customer(client)
    for _ in range(3):
        assert order(client, headers, [{"product_id": 2, "quantity": 1}]).status_code == 201
    assert app.state.runtime.gateways[0].state == "open"
    seen = primary.requests
    response = order(client, headers, [{"product_id": 2, "quantity": 1}])
    assert response.json()["payment"]["provider"] == "fallback"
    assert primary.requests == seen  # open: the primary was not called at all
    assert 'circuit_breaker_state{gateway="primary"} 2.0' in client.get("/metrics").text


def test_disabled_breaker_keeps_calling_the_primary(make_client: AppFactory) -> None:
    app, client = make_client(breaker_enabled=False, payment_attempts=1)
    primary = ledger(app, "primary")
    primary.faults = GatewayFaults(down=True)
    headers = customer(client)
    for _ in range(8):
        order(client, headers, [{"product_id": 2, "quantity": 1}])
    assert app.state.runtime.gateways[0].state == "closed"
    assert primary.requests == 8


def test_retries_reuse_the_charge_key(make_client: AppFactory) -> None:
    app, client = make_client(payment_attempts=3)
    primary = ledger(app, "primary")
    primary.faults = GatewayFaults(error_rate=0.5)
    headers = customer(client)
    for _ in range(6):
        assert order(client, headers, [{"product_id": 11, "quantity": 1}]).status_code == 201
    charged = primary.captures + ledger(app, "fallback").captures
    assert charged == 6  # one capture per order however many attempts were made
    assert len(primary.charges) == primary.captures
