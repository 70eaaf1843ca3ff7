"""Data invariants, read from the stack's PostgreSQL or, on a bare HTTP target, the admin API.

Each returns `{"held": bool, "reason": str, ...details}`; `reason` says what broke.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import psycopg

from chaos.context import Context

LIVE_STATUSES = ("pending_payment", "confirmed")
HTTP_SAMPLE = 200  # acknowledged orders checked one by one over HTTP (the newest)


def _db(context: Context) -> psycopg.Connection[Any]:
    stack = context.require_stack("reading the database")
    return psycopg.connect(stack.database_url, connect_timeout=5)


def _result(held: bool, reason: str, **details: Any) -> dict[str, Any]:
    return {"held": held, "reason": "" if held else reason, **details}


def acknowledged_ids(context: Context) -> list[str]:
    """Ids of every order acknowledged with a 2xx so far, oldest first, without duplicates."""
    path: Path = context.acknowledged_file
    if not path.exists():
        return []
    seen: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seen[str(json.loads(line)["id"])] = None
    return list(seen)


def stock_never_negative(context: Context, client: httpx.Client) -> dict[str, Any]:
    """No product has negative stock."""
    if context.stack is not None:
        with _db(context) as conn:
            rows = conn.execute(
                "SELECT product_id, stock FROM inventory WHERE stock < 0"
            ).fetchall()
        negative = {str(p): int(s) for p, s in rows}
        checked = "database"
    else:
        negative, cursor, pages = {}, None, 0
        while pages < 50:  # bounded: 50 pages of 100
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{context.base_url}/products", params=params).json()
            negative.update(
                {str(p["id"]): p["available"] for p in page["items"] if p["available"] < 0}
            )
            cursor, pages = page.get("next_cursor"), pages + 1
            if not cursor:
                break
        checked = "catalog API"
    return _result(
        not negative, f"negative stock for products {negative}", negative=negative, source=checked
    )


def stock_conserved(context: Context) -> dict[str, Any]:
    """Per product: baseline stock = stock on hand + units in live (pending/confirmed) orders."""
    stack = context.require_stack("stock conservation")
    baseline = json.loads((stack.root / "baseline-stock.json").read_text(encoding="utf-8"))
    with _db(context) as conn:
        stock = dict(conn.execute("SELECT product_id, stock FROM inventory").fetchall())
        held = dict(
            conn.execute(
                "SELECT l.product_id, SUM(l.quantity) FROM order_lines l "
                "JOIN orders o ON o.id = l.order_id WHERE o.status = ANY(%s) "
                "GROUP BY l.product_id",
                (list(LIVE_STATUSES),),
            ).fetchall()
        )
    broken = {
        product: {
            "baseline": expected,
            "stock": stock.get(int(product)),
            "in_orders": held.get(int(product), 0),
        }
        for product, expected in baseline.items()
        if stock.get(int(product), 0) + int(held.get(int(product), 0)) != expected
    }
    first = dict(list(broken.items())[:5])
    return _result(
        not broken,
        f"{len(broken)} products do not add up (baseline != stock + units in live orders): {first}",
        products=len(baseline),
        broken=first,
    )


def acknowledged_orders_exist(context: Context, client: httpx.Client) -> dict[str, Any]:
    """Every order acknowledged with a 2xx still exists."""
    ids = acknowledged_ids(context)
    if context.stack is not None:
        with _db(context) as conn:
            found = {
                str(row[0])
                for row in conn.execute(
                    "SELECT id::text FROM orders WHERE id = ANY(%s::uuid[])", (ids,)
                ).fetchall()
            }
        missing = [i for i in ids if i not in found]
        checked = len(ids)
    else:
        headers = context.admin_headers(client)
        sample = ids[-HTTP_SAMPLE:]
        missing = [
            i
            for i in sample
            if client.get(
                f"{context.base_url}/admin/orders/{i}/payments", headers=headers
            ).status_code
            == httpx.codes.NOT_FOUND
        ]
        checked = len(sample)
    return _result(
        not missing,
        f"{len(missing)} of {checked} acknowledged orders are gone, e.g. {missing[:3]}",
        acknowledged=len(ids),
        checked=checked,
        missing=missing[:20],
    )


def _charges_http(context: Context, client: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    headers = context.admin_headers(client)
    attempts = {}
    for order_id in acknowledged_ids(context)[-HTTP_SAMPLE:]:
        response = client.get(
            f"{context.base_url}/admin/orders/{order_id}/payments", headers=headers
        )
        if response.status_code == httpx.codes.OK:
            attempts[order_id] = response.json()
    return attempts


def one_capture_per_order(context: Context, client: httpx.Client) -> dict[str, Any]:
    """No order has more than one succeeded charge."""
    if context.stack is not None:
        with _db(context) as conn:
            rows = conn.execute(
                "SELECT order_id::text, COUNT(*) FROM payment_attempts "
                "WHERE kind = 'charge' AND status = 'succeeded' "
                "GROUP BY order_id HAVING COUNT(*) > 1"
            ).fetchall()
        doubled = {order: int(count) for order, count in rows}
    else:
        doubled = {}
        for order, attempts in _charges_http(context, client).items():
            captures = [a for a in attempts if a["kind"] == "charge" and a["status"] == "succeeded"]
            if len(captures) > 1:
                doubled[order] = len(captures)
    return _result(
        not doubled,
        f"orders captured more than once: {dict(list(doubled.items())[:5])}",
        doubled=doubled,
    )


def no_confirmed_without_capture(context: Context, client: httpx.Client) -> dict[str, Any]:
    """Every confirmed order has a succeeded charge."""
    if context.stack is not None:
        with _db(context) as conn:
            rows = conn.execute(
                "SELECT o.id::text FROM orders o WHERE o.status = 'confirmed' AND NOT EXISTS ("
                "SELECT 1 FROM payment_attempts p WHERE p.order_id = o.id "
                "AND p.kind = 'charge' AND p.status = 'succeeded')"
            ).fetchall()
        orphans = [row[0] for row in rows]
    else:
        # Over HTTP: acknowledged (hence confirmed) orders must show a succeeded charge.
        orphans = [
            order
            for order, attempts in _charges_http(context, client).items()
            if not any(a["kind"] == "charge" and a["status"] == "succeeded" for a in attempts)
        ]
    return _result(
        not orphans, f"confirmed orders without a capture: {orphans[:5]}", orphans=orphans[:20]
    )


def units_in_live_orders(context: Context, product_id: int) -> int:
    """Units of a product in pending or confirmed orders (database)."""
    with _db(context) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o "
            "ON o.id = l.order_id WHERE l.product_id = %s AND o.status = ANY(%s)",
            (product_id, list(LIVE_STATUSES)),
        ).fetchone()
    return int(row[0]) if row else 0
