"""Admin: products, audit trail and feature flags (features/admin)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from pytest_bdd import parsers, scenarios, then, when

from features.steps.conftest import elapsed_ms, flag_value, flags_as_dict
from features.support.api import Account, expect, product, unique

scenarios("admin")

AUDIT_PAGE = 500  # the newest entries a step reads: a shared target's log is never read whole


def audit_entries(http: httpx.Client, admin: Account) -> list[dict[str, Any]]:
    """The newest AUDIT_PAGE audit entries, oldest first: one page after the head less a page."""
    head = expect(
        http.get("/admin/audit/head", headers=admin.headers), 200, "reading the audit head"
    )
    after = max(int(head["sequence"]) - AUDIT_PAGE, 0)
    page = expect(
        http.get(
            "/admin/audit", params={"after": after, "limit": AUDIT_PAGE}, headers=admin.headers
        ),
        200,
        "reading the audit log",
    )
    items: list[dict[str, Any]] = page["items"] if isinstance(page, dict) else page
    return items


def entries_for(entries: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """Entries whose target names the subject exactly (e.g. `product:42`, ends with `:42`)."""
    return [e for e in entries if str(e.get("target", "")).split(":")[-1] == subject]


# --- products -----------------------------------------------------------------------------


@then(
    parsers.parse(
        "shoppers see the product priced {price:d} {currency} with {available:d} available"
    )
)
def shoppers_see(
    http: httpx.Client, response: httpx.Response, price: int, currency: str, available: int
) -> None:
    ident = response.json()["id"]
    seen = product(http, ident)
    if seen["price"] != {"amount": price, "currency": currency} or seen["available"] != available:
        raise AssertionError(
            f"shoppers see price {seen['price']} and {seen['available']} available, expected "
            f"{price} {currency} and {available}"
        )


@when("the admin creates another product with the same SKU", target_fixture="response")
def same_sku(http: httpx.Client, admin: Account, product: dict[str, Any]) -> httpx.Response:
    body = {
        "sku": product["sku"],
        "name": "Duplicate",
        "category": unique("cat"),
        "price": {"amount": 100, "currency": "USD"},
        "stock": 1,
    }
    return http.post("/admin/products", json=body, headers=admin.headers)


@when(
    parsers.parse("the admin changes the product's price to {price:d} {currency}"),
    target_fixture="response",
)
def change_price(
    http: httpx.Client, admin: Account, product: dict[str, Any], price: int, currency: str
) -> httpx.Response:
    body = {"price": {"amount": price, "currency": currency}}
    return http.patch(f"/admin/products/{product['id']}", json=body, headers=admin.headers)


# --- audit --------------------------------------------------------------------------------


@then("the audit log has an entry by the admin for the new product", target_fixture="audit_entry")
def audit_for_new(http: httpx.Client, admin: Account, response: httpx.Response) -> dict[str, Any]:
    created = expect(response, 201, "creating a product")
    return _latest_by_admin(http, admin, str(created["id"]))


@then("the audit log has an entry by the admin for the product", target_fixture="audit_entry")
def audit_for_product(
    http: httpx.Client, admin: Account, product: dict[str, Any]
) -> dict[str, Any]:
    return _latest_by_admin(http, admin, str(product["id"]))


def _latest_by_admin(http: httpx.Client, admin: Account, subject: str) -> dict[str, Any]:
    found = entries_for(audit_entries(http, admin), subject)
    if not found:
        raise AssertionError(f"none of the newest {AUDIT_PAGE} audit entries names {subject}")
    latest = found[-1]
    if latest.get("actor") not in {admin.id, admin.email}:
        raise AssertionError(
            f"audit entry actor is {latest.get('actor')!r}, not the admin {admin.id}"
        )
    return latest


@then("the entry records the state after the change")
def entry_has_after(audit_entry: dict[str, Any]) -> None:
    if not audit_entry.get("after"):
        raise AssertionError(f"audit entry has no 'after' state: {audit_entry}")


@then(parsers.parse("the entry records the stock before as {before:d} and after as {after:d}"))
def entry_before_after(audit_entry: dict[str, Any], before: int, after: int) -> None:
    seen = (
        (audit_entry.get("before") or {}).get("stock"),
        (audit_entry.get("after") or {}).get("stock"),
    )
    if seen != (before, after):
        raise AssertionError(
            f"expected stock {before} → {after} in the audit entry, it records {seen}"
        )


@when("the admin verifies the audit log", target_fixture="response")
def verify(http: httpx.Client, admin: Account) -> httpx.Response:
    return http.get("/admin/audit/verify", headers=admin.headers)


@then("the audit chain is valid")
def chain_valid(response: httpx.Response) -> None:
    body = response.json()
    if (
        body.get("valid") is not True
        or not body.get("entries")
        or body.get("first_broken_seq") is not None
    ):
        raise AssertionError(f"expected a valid, non-empty chain, verification says {body}")


@when("the admin reads the newest audit entries", target_fixture="audit_log")
def read_audit(http: httpx.Client, admin: Account) -> list[dict[str, Any]]:
    return audit_entries(http, admin)


@then("each entry's prev_hash is the previous entry's hash")
def chained(audit_log: list[dict[str, Any]]) -> None:
    if len(audit_log) < 2:
        raise AssertionError(f"{len(audit_log)} audit entries read: no link to check")
    for previous, entry in itertools.pairwise(audit_log):
        if entry["seq"] != previous["seq"] + 1 or entry["prev_hash"] != previous["hash"]:
            raise AssertionError(f"chain breaks between seq {previous['seq']} and {entry['seq']}")


# --- flags --------------------------------------------------------------------------------


@when("the admin lists the feature flags", target_fixture="response")
def list_flags(http: httpx.Client, admin: Account) -> httpx.Response:
    return http.get("/admin/flags", headers=admin.headers)


@then(parsers.parse('the flag "{name}" is {value}'))
def flag_is(response: httpx.Response, name: str, value: str) -> None:
    flags = flags_as_dict(expect(response, 200, "listing flags"))
    if flags.get(name) != flag_value(value):
        raise AssertionError(f"expected flag {name} = {value}, flags are {flags}")


@then(parsers.parse('the audit log records the flag "{name}" changing to {value}'))
def flag_audited(http: httpx.Client, admin: Account, name: str, value: str) -> None:
    entries = entries_for(audit_entries(http, admin), name)
    if not entries:
        raise AssertionError(f"none of the newest {AUDIT_PAGE} audit entries is for flag {name}")
    after = entries[-1].get("after")
    recorded = after.get("value") if isinstance(after, dict) else after
    if recorded != flag_value(value):
        raise AssertionError(f"latest audit entry for {name} records {after!r}, expected {value}")


@when(
    parsers.parse('the admin sets the feature flag "{name}" to {value}'), target_fixture="response"
)
def admin_sets_flag(http: httpx.Client, admin: Account, name: str, value: str) -> httpx.Response:
    return http.put(
        f"/admin/flags/{name}", json={"value": flag_value(value)}, headers=admin.headers
    )


@then(parsers.parse("the checkout took at least {ms:d} ms"))
def took_at_least(response: httpx.Response, ms: int) -> None:
    took = elapsed_ms(response)
    if took < ms:
        raise AssertionError(f"checkout took {took:.0f} ms; the injected latency is {ms} ms")
