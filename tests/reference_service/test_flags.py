"""Feature flags: typed, audited, and they change behaviour."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service import db
from reference_service.flags import Flags, FlagValue, load_definitions
from reference_service.settings import Settings
from tests.builders import admin, customer, order, product
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-FLG-001")

FLAGS = {
    "payment_latency_ms",
    "payment_error_rate",
    "payment_primary_down",
    "payment_fallback_down",
    "catalog_cache_enabled",
    "db_slow_query_ms",
    "pessimistic_inventory_locking",
}


def test_flags_list_with_defaults(client: TestClient) -> None:
    flags = {f["name"]: f for f in client.get("/admin/flags", headers=admin(client)).json()}
    assert set(flags) == FLAGS
    assert flags["catalog_cache_enabled"]["value"] is True
    assert flags["payment_error_rate"]["value"] == 0.0
    assert flags["payment_latency_ms"]["updated_by"] is None


@pytest.mark.req("REQ-ADM-001")
def test_a_change_is_audited_with_before_and_after(client: TestClient) -> None:
    boss = admin(client)
    changed = client.put("/admin/flags/payment_latency_ms", json={"value": 250}, headers=boss)
    assert changed.status_code == 200
    assert changed.json()["value"] == 250
    assert changed.json()["updated_by"] == client.get("/users/me", headers=boss).json()["id"]
    entry = client.get("/admin/audit", headers=boss).json()["items"][-1]
    assert (entry["action"], entry["target"]) == ("flag.set", "flag:payment_latency_ms")
    assert (entry["before"], entry["after"]) == ({"value": 0}, {"value": 250})
    assert client.get("/admin/audit/verify", headers=boss).json()["valid"] is True


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [
        ("payment_latency_ms", "slow", 422),
        ("payment_latency_ms", -1, 422),
        ("payment_latency_ms", 1.5, 422),
        ("payment_error_rate", 1.5, 422),
        ("payment_primary_down", 1, 422),
        ("payment_primary_down", "true", 422),
        ("payment_error_rate", True, 422),
        ("no_such_flag", True, 404),
        ("Bad-Name", True, 404),
    ],
)
def test_bad_flag_values_are_rejected(
    client: TestClient, name: str, value: object, status: int
) -> None:
    response = client.put(f"/admin/flags/{name}", json={"value": value}, headers=admin(client))
    assert response.status_code == status
    entries = client.get("/admin/audit", headers=admin(client)).json()["items"]
    assert not [e for e in entries if e["action"] == "flag.set"]


@pytest.mark.parametrize(
    ("name", "value", "stored"),
    [
        ("payment_latency_ms", 2.0, 2),
        ("payment_error_rate", 1, 1.0),
        ("payment_error_rate", 0.25, 0.25),
    ],
)
def test_flag_values_the_contract_allows_are_accepted(
    client: TestClient, name: str, value: object, stored: object
) -> None:
    """JSON Schema counts 2.0 as an integer and 1 as a number, so the service does too."""
    response = client.put(f"/admin/flags/{name}", json={"value": value}, headers=admin(client))
    assert response.status_code == 200, response.text
    assert response.json()["value"] == stored


def test_each_flag_has_its_own_typed_operation(client: TestClient) -> None:
    """One PUT per defined flag, its body typed and bounded as the flag's definition says."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    setters = {
        path.rsplit("/", 1)[1]: item["put"]
        for path, item in document["paths"].items()
        if path.startswith("/admin/flags/")
    }
    assert set(setters) == FLAGS
    definitions = load_definitions()

    def value_schema(name: str) -> dict[str, object]:
        ref = setters[name]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return dict(schemas[ref.rsplit("/", 1)[1]]["properties"]["value"])

    for name, definition in definitions.items():
        value = value_schema(name)
        expected = {"bool": "boolean", "int": "integer", "float": "number"}[definition.type]
        assert value["type"] == expected, name
        if definition.type != "bool":
            assert (value["minimum"], value["maximum"]) == (definition.min, definition.max)


def test_customers_cannot_touch_flags(client: TestClient) -> None:
    headers = customer(client)
    assert client.get("/admin/flags", headers=headers).status_code == 403
    response = client.put(
        "/admin/flags/payment_primary_down", json={"value": True}, headers=headers
    )
    assert response.status_code == 403


def test_payment_error_rate_sends_checkout_to_the_fallback(make_client: AppFactory) -> None:
    _, client = make_client()
    client.put("/admin/flags/payment_error_rate", json={"value": 1.0}, headers=admin(client))
    placed = order(client, customer(client), [{"product_id": 3, "quantity": 1}])
    assert placed.json()["payment"]["provider"] == "fallback"


def test_slow_query_flag_holds_the_connection(make_client: AppFactory) -> None:
    app, client = make_client()
    client.put("/admin/flags/db_slow_query_ms", json={"value": 120}, headers=admin(client))
    runtime = app.state.runtime

    async def timed() -> float:
        async with runtime.read_sessions() as session:
            started = time.perf_counter()
            await runtime.slow_query(session)
            return time.perf_counter() - started

    assert asyncio.run(timed()) >= 0.12  # a lower bound: cannot flake on a slow machine


@pytest.mark.req("REQ-INV-001")
def test_pessimistic_locking_still_never_oversells(make_client: AppFactory) -> None:
    _, client = make_client()
    boss = admin(client)
    client.put("/admin/flags/pessimistic_inventory_locking", json={"value": True}, headers=boss)
    item = product(client, boss, stock=1)
    headers = customer(client)
    items = [{"product_id": item["id"], "quantity": 1}]
    assert [order(client, headers, items).status_code for _ in range(2)] == [201, 409]
    assert client.get(f"/products/{item['id']}").json()["available"] == 0


def test_readers_of_a_stale_snapshot_share_one_reload(settings: Settings) -> None:
    # Checkout reads flags on every order: when the snapshot goes stale under load, one reload
    # serves everyone waiting instead of each reader queueing its own query.
    engine = db.create_engine(settings)
    reads = 0
    sessions = db.create_sessionmaker(engine, writes=False)

    def counting() -> AsyncSession:
        nonlocal reads
        reads += 1
        return sessions()

    flags = Flags(load_definitions(), counting, refresh_s=60)  # type: ignore[arg-type]

    async def many() -> list[FlagValue]:
        try:
            return await asyncio.gather(*(flags.get("catalog_cache_enabled") for _ in range(20)))
        finally:
            await engine.dispose()

    assert asyncio.run(many()) == [True] * 20
    assert reads == 1
