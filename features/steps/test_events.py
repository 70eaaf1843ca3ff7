"""Domain events through the outbox (features/events)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pytest_bdd import given, scenarios, then

from features.support.api import Account, expect

scenarios("events")

EVENTS_PAGE = 100
MAX_EVENT_PAGES = 10


def _page(
    http: httpx.Client, admin: Account, after: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    params: dict[str, Any] = {"limit": EVENTS_PAGE}
    if after is not None:
        params["after"] = after
    body = expect(
        http.get("/admin/events", params=params, headers=admin.headers), 200, "reading events"
    )
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    nxt = body.get("next_after") if isinstance(body, dict) else None
    if nxt is None and len(items) == EVENTS_PAGE:
        nxt = _position(items[-1])
    return items, nxt


def _position(event: dict[str, Any]) -> int | None:
    for key in ("seq", "id", "position"):
        if isinstance(event.get(key), int):
            return int(event[key])
    return None


def events_after(http: httpx.Client, admin: Account, after: int | None) -> list[dict[str, Any]]:
    """The events after a position, following pages up to MAX_EVENT_PAGES of them (a busy
    shared target may add more meanwhile; a scenario's own events come first)."""
    events: list[dict[str, Any]] = []
    for _ in range(MAX_EVENT_PAGES):
        items, nxt = _page(http, admin, after)
        events.extend(items)
        if not items or nxt is None or nxt == after:
            break
        after = nxt
    return events


@given("the admin has noted the latest event", target_fixture="event_mark")
def note_latest(http: httpx.Client, admin: Account) -> int | None:
    """The newest event's position, asked once: a shared target's outbox is never read whole."""
    head = expect(
        http.get("/admin/events/head", headers=admin.headers), 200, "reading the events head"
    )
    return int(head["sequence"])


@then("an event after the noted one names the order")
def event_names_order(
    http: httpx.Client, admin: Account, response: httpx.Response, event_mark: int | None
) -> None:
    order_id = str(expect(response, 201, "checking out")["id"])
    events = events_after(http, admin, event_mark)
    naming = [e for e in events if order_id in json.dumps(e)]
    if not naming:
        types = sorted({str(e.get("type") or e.get("topic")) for e in events})
        raise AssertionError(
            f"none of the {len(events)} events after the mark names order {order_id}; "
            f"event types seen: {types}"
        )
