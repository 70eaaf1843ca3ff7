"""Admin products, stock, payments view and the tamper-evident audit log."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from reference_service import db
from reference_service.admin.models import AuditEntry
from reference_service.settings import Settings
from tests.builders import admin, customer, product

NEW = {
    "sku": "ADM-1",
    "name": "Admin Made",
    "category": "testing",
    "price": {"amount": 999, "currency": "USD"},
    "stock": 3,
}


@pytest.mark.req("REQ-SEC-002")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/admin/products", NEW),
        ("PATCH", "/admin/products/1", {"name": "x"}),
        ("PUT", "/admin/inventory/1", {"stock": 1}),
        ("GET", "/admin/audit", None),
        ("GET", "/admin/audit/verify", None),
        ("GET", "/admin/orders/00000000-0000-0000-0000-000000000000/payments", None),
    ],
)
def test_admin_needs_a_token_and_the_admin_role(
    client: TestClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    forbidden = client.request(method, path, json=body, headers=customer(client))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"


@pytest.mark.req("REQ-ADM-002")
def test_create_update_and_restock_a_product(client: TestClient) -> None:
    boss = admin(client)
    created = client.post("/admin/products", json=NEW, headers=boss)
    assert created.status_code == 201
    product_id = created.json()["id"]
    assert client.post("/admin/products", json=NEW, headers=boss).status_code == 409
    patched = client.patch(
        f"/admin/products/{product_id}",
        json={"price": {"amount": 1299, "currency": "USD"}, "name": "Renamed"},
        headers=boss,
    )
    assert patched.json()["price"]["amount"] == 1299
    assert patched.json()["name"] == "Renamed"
    assert client.put(
        f"/admin/inventory/{product_id}", json={"stock": 42}, headers=boss
    ).json() == {
        "product_id": product_id,
        "stock": 42,
    }
    assert client.get(f"/products/{product_id}").json()["available"] == 42
    assert client.put("/admin/inventory/99999", json={"stock": 1}, headers=boss).status_code == 404
    assert (
        client.put(f"/admin/inventory/{product_id}", json={"stock": -1}, headers=boss).status_code
        == 422
    )


@pytest.mark.req("REQ-ADM-002")
@pytest.mark.parametrize(
    "change",
    [
        {"sku": "bad sku!"},
        {"price": {"amount": -1, "currency": "USD"}},
        {"price": {"amount": 100, "currency": "usd"}},
        {"price": {"amount": 10.5, "currency": "USD"}},
        {"stock": 10**12},
        {"category": "Not A Slug"},
        {"name": ""},
    ],
)
def test_invalid_products_are_rejected(client: TestClient, change: dict[str, object]) -> None:
    response = client.post("/admin/products", json={**NEW, **change}, headers=admin(client))
    assert response.status_code == 422


@pytest.mark.req("REQ-ADM-001")
def test_every_admin_write_is_audited_in_a_valid_chain(client: TestClient) -> None:
    boss = admin(client)
    me = client.get("/users/me", headers=boss).json()
    item = product(client, boss, stock=1)
    client.patch(f"/admin/products/{item['id']}", json={"name": "Changed"}, headers=boss)
    client.put(f"/admin/inventory/{item['id']}", json={"stock": 9}, headers=boss)
    entries = client.get("/admin/audit", headers=boss).json()["items"]
    assert [e["action"] for e in entries] == ["product.create", "product.update", "inventory.set"]
    assert all(e["actor"] == me["id"] for e in entries)
    assert entries[2]["before"] == {"stock": 1}
    assert entries[2]["after"] == {"stock": 9}
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    assert client.get("/admin/audit/verify", headers=boss).json() == {
        "valid": True,
        "entries": 3,
        "first_broken_seq": None,
    }


@pytest.mark.req("REQ-ADM-001")
def test_tampering_with_the_audit_log_is_detected(client: TestClient, settings: Settings) -> None:
    boss = admin(client)
    item = product(client, boss, stock=1)
    for stock in (2, 3, 4):
        client.put(f"/admin/inventory/{item['id']}", json={"stock": stock}, headers=boss)

    async def tamper() -> None:
        engine = db.create_engine(settings)
        async with db.create_sessionmaker(engine).begin() as session:
            await session.execute(
                update(AuditEntry).where(AuditEntry.seq == 3).values(after={"stock": 300})
            )
        await engine.dispose()

    asyncio.run(tamper())
    assert client.get("/admin/audit/verify", headers=boss).json() == {
        "valid": False,
        "entries": 3,
        "first_broken_seq": 3,
    }


@pytest.mark.req("REQ-ADM-001")
def test_audit_pages(client: TestClient) -> None:
    boss = admin(client)
    item = product(client, boss)
    for stock in range(5):
        client.put(f"/admin/inventory/{item['id']}", json={"stock": stock}, headers=boss)
    first = client.get("/admin/audit", params={"limit": 4}, headers=boss).json()
    assert [e["seq"] for e in first["items"]] == [1, 2, 3, 4]
    rest = client.get("/admin/audit", params={"after": first["next_after"]}, headers=boss).json()
    assert [e["seq"] for e in rest["items"]] == [5, 6]
    assert rest["next_after"] is None


def test_unknown_order_payments_is_404(client: TestClient) -> None:
    response = client.get(
        "/admin/orders/00000000-0000-0000-0000-000000000000/payments", headers=admin(client)
    )
    assert response.status_code == 404
