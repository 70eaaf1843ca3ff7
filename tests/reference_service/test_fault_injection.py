"""Fault injection is off unless chosen (ADR-016): whoever holds an admin token cannot make a
production-like deployment fail through the fault flags."""

from __future__ import annotations

from typing import Any

import pytest

from reference_service.flags import FlagDefinition, FlagValue, load_definitions
from reference_service.settings import Settings
from tests.builders import admin, customer, order
from tests.reference_service.conftest import AppFactory

pytestmark = [pytest.mark.req("REQ-FLG-001"), pytest.mark.req("REQ-ADM-001")]

FAULTS = {name: d for name, d in load_definitions().items() if d.fault}


def _valid(definition: FlagDefinition) -> FlagValue:
    """A value the flag's schema accepts, other than its default, and mild (1 ms of latency
    or delay), so the requests after it are not the ones that fail."""
    if definition.type == "bool":
        return not definition.default
    if definition.type == "int":
        return int(definition.min or 0) + 1
    return 0.5


def _flag_changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["action"] == "flag.set"]


def test_the_fault_flags_are_the_ones_that_make_requests_fail() -> None:
    assert set(FAULTS) == {
        "payment_latency_ms",
        "payment_error_rate",
        "payment_primary_down",
        "payment_fallback_down",
        "db_slow_query_ms",
    }


def test_fault_flags_answer_403_and_change_nothing_when_off(make_client: AppFactory) -> None:
    _, client = make_client(fault_injection=False)
    boss = admin(client)
    before = client.get("/admin/flags", headers=boss).json()
    for name, definition in FAULTS.items():
        body = {"value": _valid(definition)}
        response = client.put(f"/admin/flags/{name}", json=body, headers=boss)
        assert response.status_code == 403, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == "/problems/fault-injection-disabled"
        assert "FAULT_INJECTION" in problem["detail"]
        assert "\n" not in problem["detail"]
    assert client.get("/admin/flags", headers=boss).json() == before
    # Refused like any other refusal: nothing written, so nothing audited.
    assert _flag_changes(client.get("/admin/audit", headers=boss).json()["items"]) == []
    # The other flags are not faults and still change, audited.
    changed = client.put("/admin/flags/catalog_cache_enabled", json={"value": False}, headers=boss)
    assert changed.status_code == 200, changed.text
    assert len(_flag_changes(client.get("/admin/audit", headers=boss).json()["items"])) == 1


def test_fault_flags_work_when_on(make_client: AppFactory) -> None:
    _, client = make_client(fault_injection=True)
    boss = admin(client)
    for name, definition in FAULTS.items():
        value = _valid(definition)
        response = client.put(f"/admin/flags/{name}", json={"value": value}, headers=boss)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["value"] == value
        reset = client.put(f"/admin/flags/{name}", json={"value": definition.default}, headers=boss)
        assert reset.status_code == 200
    client.put("/admin/flags/payment_primary_down", json={"value": True}, headers=boss)
    placed = order(client, customer(client), [{"product_id": 3, "quantity": 1}])
    assert placed.status_code == 201, placed.text
    assert placed.json()["payment"]["provider"] == "fallback"


def test_a_fault_stored_while_on_has_no_effect_where_it_is_off(make_client: AppFactory) -> None:
    """A shared database may hold a fault from a chaos run; a service with fault injection off
    neither applies nor shows it."""
    _, chaos = make_client(fault_injection=True)
    down = chaos.put(
        "/admin/flags/payment_primary_down", json={"value": True}, headers=admin(chaos)
    )
    assert down.status_code == 200
    _, client = make_client(fault_injection=False)
    flags = {f["name"]: f for f in client.get("/admin/flags", headers=admin(client)).json()}
    assert flags["payment_primary_down"]["value"] is False
    placed = order(client, customer(client), [{"product_id": 3, "quantity": 1}])
    assert placed.status_code == 201, placed.text
    assert placed.json()["payment"]["provider"] == "primary"


def test_the_contract_documents_the_403_on_each_fault_flag(make_client: AppFactory) -> None:
    _, client = make_client(fault_injection=True)  # the document does not depend on it
    paths = client.get("/openapi.json").json()["paths"]
    for name in load_definitions():
        forbidden = paths[f"/admin/flags/{name}"]["put"]["responses"]["403"]["description"]
        assert ("fault-injection-disabled" in forbidden) is (name in FAULTS), name


PRODUCTION = {"jwt_secret": "p" * 40, "admin_password": "a-real-password-1"}


@pytest.mark.parametrize(
    ("options", "enabled"),
    [
        ({}, False),
        ({"app_env": "test"}, False),
        ({"app_env": "production", **PRODUCTION}, False),
        ({"app_env": "development"}, True),
        ({"app_env": "development", "fault_injection": False}, False),
        ({"app_env": "production", "fault_injection": True, **PRODUCTION}, True),
        ({"fault_injection": True}, True),
    ],
)
def test_fault_injection_is_on_by_default_only_in_development(
    options: dict[str, Any], enabled: bool
) -> None:
    assert Settings(**options).fault_injection_enabled is enabled


def test_fault_injection_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("FAULT_INJECTION", "false")
    assert Settings().fault_injection_enabled is False
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("FAULT_INJECTION", "true")
    assert Settings().fault_injection_enabled is True
