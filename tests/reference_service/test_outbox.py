"""Domain events go through a transactional outbox and are relayed at least once."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reference_service.events.models import OutboxEvent
from reference_service.events.relay import NatsPublisher, relay_once
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-EVT-001")

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


def _events(client: TestClient, aggregate: str) -> list[str]:
    items = client.get("/admin/events", params={"limit": 500}, headers=admin(client)).json()
    return [e["type"] for e in items["items"] if e["aggregate_id"] == aggregate]


def test_a_confirmed_order_commits_its_events(make_client: AppFactory) -> None:
    _, client = make_client()
    placed = order(client, customer(client), [{"product_id": 6, "quantity": 1}]).json()
    assert _events(client, placed["id"]) == [
        "inventory.reserved",
        "payments.authorized",
        "orders.created",
    ]


def test_a_declined_order_records_the_release(make_client: AppFactory) -> None:
    _, client = make_client()
    declined = order(
        client, customer(client), [{"product_id": 6, "quantity": 1}], token="tok_decline"
    )
    assert _events(client, declined.json()["order_id"]) == [
        "inventory.reserved",
        "payments.failed",
        "inventory.released",
    ]


def test_the_events_head_is_the_newest_sequence_to_read_after(make_client: AppFactory) -> None:
    _, client = make_client()
    boss = admin(client)
    head = client.get("/admin/events/head", headers=boss)
    assert head.status_code == 200
    mark = head.json()["sequence"]
    placed = order(client, customer(client), [{"product_id": 6, "quantity": 1}]).json()
    after = client.get("/admin/events", params={"after": mark}, headers=boss).json()["items"]
    # Exactly the new order's events come after the mark, and the head moved to the last.
    assert {e["aggregate_id"] for e in after} == {placed["id"]}
    assert client.get("/admin/events/head", headers=boss).json() == {"sequence": after[-1]["seq"]}
    assert client.get("/admin/events/head").status_code == 401


def test_a_rolled_back_checkout_leaves_no_event(make_client: AppFactory) -> None:
    _, client = make_client()
    boss = admin(client)
    item = product(client, boss, stock=1)
    before = client.get("/admin/events", params={"limit": 500}, headers=boss).json()["items"]
    response = order(client, customer(client), [{"product_id": item["id"], "quantity": 2}])
    assert response.status_code == 409
    after = client.get("/admin/events", params={"limit": 500}, headers=boss).json()["items"]
    assert after == before


def test_the_relay_delivers_pending_events_in_the_background(client: TestClient) -> None:
    placed = order(client, customer(client), [{"product_id": 6, "quantity": 1}]).json()
    deadline = time.monotonic() + 15
    while True:
        items = client.get("/admin/events", params={"limit": 500}, headers=admin(client)).json()
        mine = [e for e in items["items"] if e["aggregate_id"] == placed["id"]]
        if mine and all(e["delivered_at"] for e in mine):
            break
        assert time.monotonic() < deadline, "the relay did not deliver the order's events"
        time.sleep(0.1)  # polling interval while waiting for a condition, not a sync
    metrics = client.get("/metrics").text
    assert "outbox_pending_events 0.0" in metrics


def test_nats_jetstream_gets_each_event_once(make_client: AppFactory) -> None:
    app, client = make_client()
    placed = order(client, customer(client), [{"product_id": 6, "quantity": 1}]).json()
    stream, prefix = f"TEST_{uuid.uuid4().hex[:8].upper()}", f"t{uuid.uuid4().hex[:8]}."
    publisher = NatsPublisher(NATS_URL, stream, prefix)
    runtime = app.state.runtime

    async def relay_twice_and_read() -> tuple[int, int, set[str]]:
        delivered = await relay_once(runtime.sessions, publisher)
        async with runtime.sessions.begin() as session:  # simulate a redelivery
            for event in (await session.scalars(select(OutboxEvent))).all():
                event.delivered_at = None
        await relay_once(runtime.sessions, publisher)
        await publisher.aclose()
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            info = await js.stream_info(stream)
            sub = await js.pull_subscribe(f"{prefix}orders.*", stream=stream)
            messages = await sub.fetch(10, timeout=2)
            ids = {m.headers.get("Nats-Msg-Id", "") for m in messages if m.headers}
            return delivered, int(info.state.messages), ids
        finally:
            await js.delete_stream(stream)
            await nc.close()

    delivered, stored, order_ids = asyncio.run(relay_twice_and_read())
    assert delivered == 3
    assert stored == 3  # the redelivery was dropped by JetStream's duplicate window
    assert len(order_ids) == 1
    assert placed["id"]
