"""Checkout and payment probes (re-exported by `chaos.probes`, where experiments name them)."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed

from chaos import invariants, traffic
from chaos.context import Configuration, Context, boundary, http_client, resolve
from chaos.verdicts import burst, verdict

POLL_S = 0.25
BREAKER = re.compile(r'^circuit_breaker_state\{gateway="(?P<g>[^"]+)"\}\s+(?P<v>[0-9.]+)', re.M)
BREAKER_OPEN = 2
HOT_FILE = "hot-product.json"  # written by chaos.actions.create_hot_product


def _breaker_states(client: httpx.Client, base_url: str) -> dict[str, float]:
    text = client.get(f"{base_url}/metrics").text
    return {m["g"]: float(m["v"]) for m in BREAKER.finditer(text)}


@boundary
def breaker_opens(
    gateway: str = "primary", within_s: float = 20.0, configuration: Configuration = None
) -> dict[str, Any]:
    """circuit_breaker_state{gateway} reaches open (2) within `within_s` (traffic must flow)."""
    if not gateway:
        raise ActivityFailed("breaker_opens needs a gateway name")
    context = resolve(configuration)
    started = time.monotonic()
    states: dict[str, float] = {}
    with http_client() as client:
        while time.monotonic() - started < within_s:
            states = _breaker_states(client, context.base_url)
            if states.get(gateway) == BREAKER_OPEN:
                return verdict(True, "", opened_after_s=round(time.monotonic() - started, 2))
            time.sleep(POLL_S)
    return verdict(
        False,
        f"circuit_breaker_state{{gateway={gateway}}} stayed {states.get(gateway, 'absent')} "
        f"(2 = open) for {within_s:.0f} s while the {gateway} gateway was failing: "
        "the breaker never opened, so every checkout waits out the failing gateway",
        states=states,
    )


def _checkout(
    client: httpx.Client,
    context: Context,
    token: str,
    product: int,
    *,
    fresh_connection: bool = False,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(12)}
    if fresh_connection:
        headers["Connection"] = "close"
    return client.post(
        f"{context.base_url}/orders",
        json={"items": [{"product_id": product, "quantity": 1}], "payment": {"token": "tok_visa"}},
        headers=headers,
    )


def _acknowledge(context: Context, order_id: str) -> None:
    with context.acknowledged_file.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": order_id, "at": time.time()}) + "\n")


def _available(client: httpx.Client, context: Context, product: int) -> int:
    return int(client.get(f"{context.base_url}/products/{product}").json()["available"])


@boundary
def checkouts_answer(
    count: int = 5,
    status: int = 201,
    provider: str | None = None,
    nothing_held: bool = False,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """`count` sequential checkouts all answer `status` (paid by `provider` if set); with
    `nothing_held`, the product's stock is unchanged and no order is left pending."""
    context = resolve(configuration)
    with http_client() as client:
        token = traffic.customers(client, context.base_url, context.state_dir)[0]
        product = traffic.product_ids(client, context.base_url)[0]
        before = _available(client, context, product)
        answers = [_checkout(client, context, token, product) for _ in range(count)]
        after = _available(client, context, product)
        mine = client.get(
            f"{context.base_url}/orders", headers={"Authorization": f"Bearer {token}"}
        )
    problems = []
    statuses = [r.status_code for r in answers]
    if any(s != status for s in statuses):
        problems.append(f"statuses {statuses}, expected all {status}")
    for r in answers:
        if r.status_code in (200, 201):
            paid_by = r.json()["payment"]["provider"]
            _acknowledge(context, r.json()["id"])
            if provider and paid_by != provider:
                problems.append(f"paid by {paid_by}, expected {provider}")
        elif status == 503 and "Retry-After" not in r.headers:
            problems.append("a 503 without Retry-After")
    pending = [o["id"] for o in mine.json()["items"] if o["status"] == "pending_payment"]
    if nothing_held and (after != before or pending):
        problems.append(f"held: stock {before} -> {after}, pending orders {pending[:3]}")
    return verdict(
        not problems,
        "; ".join(problems),
        statuses=statuses,
        stock_before=before,
        stock_after=after,
        pending=len(pending),
    )


@boundary
def checkout_recovers_within(
    within_s: float = 30.0, consecutive: int = 20, configuration: Configuration = None
) -> dict[str, Any]:
    """Checkout succeeds `consecutive` times in a row (every worker, not just one, recovered)
    within `within_s`; measures the time to recovery from the first call.

    Each attempt opens a new connection: on one kept-alive connection every attempt lands
    on the same gunicorn worker, and a worker whose breaker is still open goes unseen.
    """
    if not 1 <= consecutive <= 50:
        raise ActivityFailed("consecutive takes 1-50")
    context = resolve(configuration)
    started = time.monotonic()
    seen: list[int] = []
    streak = 0
    with http_client() as client:
        token = traffic.customers(client, context.base_url, context.state_dir)[0]
        # One unit of a different product each time, so the probe never runs a product dry.
        products = traffic.product_ids(client, context.base_url)
        while time.monotonic() - started < within_s:
            product = products[len(seen) % len(products)]
            response = _checkout(client, context, token, product, fresh_connection=True)
            seen.append(response.status_code)
            if response.status_code != 201:
                streak = 0
                time.sleep(0.25)
                continue
            _acknowledge(context, response.json()["id"])
            streak += 1
            if streak >= consecutive:
                took = round(time.monotonic() - started, 2)
                return verdict(True, "", recovered_after_s=took, attempts=len(seen))
    return verdict(
        False,
        f"no {consecutive} successful checkouts in a row within {within_s:.0f} s: {seen[-8:]}",
        attempts=len(seen),
    )


def _hot(context: Context) -> dict[str, Any]:
    path = context.state_dir / HOT_FILE
    if not path.exists():
        raise ActivityFailed("no hot product: run chaos.actions.create_hot_product first")
    return dict(json.loads(path.read_text(encoding="utf-8")))


@boundary
def checkout_rush(
    requests: int = 40, rate_rps: float = 40.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Rush the hot product with ~`requests` one-unit checkouts; held when none is a 5xx."""
    if not 1 <= requests <= 400:
        raise ActivityFailed("checkout_rush takes 1-400 requests")
    context = resolve(configuration)
    hot = _hot(context)
    samples = burst(
        context, requests / rate_rps, rate_rps, mix={"checkout": 1.0}, product_id=hot["product_id"]
    )
    measured = traffic.measure(samples)
    sold = sum(1 for s in samples if s.order_id)
    hot["sold"] = int(hot.get("sold", 0)) + sold
    (context.state_dir / HOT_FILE).write_text(json.dumps(hot), encoding="utf-8")
    return verdict(
        measured["error_rate_pct"] == 0,
        f"server errors in the rush: {measured['statuses']}",
        sold=sold,
        stock=hot["stock"],
        **measured,
    )


@boundary
def hot_product_not_oversold(configuration: Configuration = None) -> dict[str, Any]:
    """The hot product: available >= 0, and available + units in live orders = its stock."""
    context = resolve(configuration)
    if not (context.state_dir / HOT_FILE).exists():
        return verdict(True, "", note="no hot product yet: nothing can be oversold")
    hot = _hot(context)
    with http_client() as client:
        available = _available(client, context, hot["product_id"])
    sold = int(hot.get("sold", 0))  # what the rushes were acknowledged
    if context.stack is not None:
        sold = invariants.units_in_live_orders(context, hot["product_id"])
    held = available >= 0 and available + sold == hot["stock"]
    return verdict(
        held,
        f"stock {hot['stock']}, sold {sold}, available {available}",
        stock=hot["stock"],
        sold=sold,
        available=available,
    )
