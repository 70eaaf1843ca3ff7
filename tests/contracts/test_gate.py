"""The breaking-change gate catches deliberately broken copies and lets compatible ones pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contracts.diff import Severity, compare
from contracts.export import CONTRACT, render
from contracts.gate import main

pytestmark = pytest.mark.req("REQ-API-001")


@pytest.fixture
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return document


def kinds(old: dict[str, Any], new: dict[str, Any], severity: Severity) -> set[str]:
    return {c.kind for c in compare(old, new) if c.severity is severity}


def test_identical_contracts_have_no_changes(contract: dict[str, Any]) -> None:
    assert compare(contract, copy.deepcopy(contract)) == []


def test_removed_response_field_is_breaking(contract: dict[str, Any]) -> None:
    broken = copy.deepcopy(contract)
    order = broken["components"]["schemas"]["OrderRead"]
    del order["properties"]["total"]
    order["required"].remove("total")
    changes = [c for c in compare(contract, broken) if c.severity is Severity.BREAKING]
    assert {c.kind for c in changes} == {"response-property-removed"}
    assert any(c.operation.startswith("POST /orders (orders-create)") for c in changes)
    assert any(c.location == "response 201 body.total" for c in changes)


def test_removed_operation_and_status_are_breaking(contract: dict[str, Any]) -> None:
    broken = copy.deepcopy(contract)
    del broken["paths"]["/orders/{order_id}/cancel"]
    del broken["paths"]["/orders"]["post"]["responses"]["402"]
    found = kinds(contract, broken, Severity.BREAKING)
    assert found == {"operation-removed", "response-status-removed"}


def test_new_required_request_field_and_parameter_are_breaking(contract: dict[str, Any]) -> None:
    broken = copy.deepcopy(contract)
    line = broken["components"]["schemas"]["CartLineSet"]
    line["properties"]["gift_note"] = {"type": "string"}
    line["required"].append("gift_note")
    broken["paths"]["/products"]["get"]["parameters"].append(
        {"in": "query", "name": "region", "required": True, "schema": {"type": "string"}}
    )
    found = kinds(contract, broken, Severity.BREAKING)
    assert found == {"request-property-required", "request-parameter-required"}


def test_narrowed_enum_and_type_are_breaking(contract: dict[str, Any]) -> None:
    old = copy.deepcopy(contract)
    currency = old["components"]["schemas"]["Price"]["properties"]["currency"]
    currency["enum"] = ["USD", "EUR", "GBP"]
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Price"]["properties"]["currency"]["enum"] = ["USD"]
    new["components"]["schemas"]["CartLineSet"]["properties"]["quantity"]["maximum"] = 10
    found = kinds(old, new, Severity.BREAKING)
    assert "enum-narrowed" in found
    assert "bound-narrowed" in found


def test_response_that_may_be_null_is_breaking(contract: dict[str, Any]) -> None:
    new = copy.deepcopy(contract)
    new["components"]["schemas"]["UserRead"]["properties"]["email"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert kinds(contract, new, Severity.BREAKING) == {"response-type-widened"}


def test_additions_are_compatible(contract: dict[str, Any]) -> None:
    new = copy.deepcopy(contract)
    new["components"]["schemas"]["CartLineSet"]["properties"]["note"] = {"type": "string"}
    new["components"]["schemas"]["ProductRead"]["properties"]["rating"] = {"type": "number"}
    new["paths"]["/wishlist"] = {
        "get": {"operationId": "wishlist-get", "responses": {"200": {"description": "ok"}}}
    }
    assert kinds(contract, new, Severity.BREAKING) == set()
    assert kinds(contract, new, Severity.COMPATIBLE) == {"property-added", "operation-added"}


def test_gate_exits_non_zero_on_a_broken_copy_and_writes_reports(
    tmp_path: Path, contract: dict[str, Any]
) -> None:
    broken = copy.deepcopy(contract)
    del broken["components"]["schemas"]["UserRead"]["properties"]["full_name"]
    current = tmp_path / "openapi.json"
    current.write_text(render(broken), encoding="utf-8")
    out = tmp_path / "gate"
    assert main(["--current", str(current), "--baseline", str(CONTRACT), "--out", str(out)]) == 1
    report = json.loads((out / "gate.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "fail"
    assert report["counts"]["breaking"] >= 1
    assert "response-property-removed" in (out / "gate.md").read_text(encoding="utf-8")


def test_bumping_the_baseline_acknowledges_the_break(
    tmp_path: Path, contract: dict[str, Any]
) -> None:
    broken = copy.deepcopy(contract)
    del broken["paths"]["/cart"]
    current, baseline = tmp_path / "openapi.json", tmp_path / "baseline.json"
    current.write_text(render(broken), encoding="utf-8")
    baseline.write_text(render(contract), encoding="utf-8")
    assert main(["--current", str(current), "--baseline", str(baseline)]) == 1
    assert main(["--current", str(current), "--baseline", str(baseline), "--bump"]) == 0
    assert main(["--current", str(current), "--baseline", str(baseline)]) == 0


def test_committed_contract_passes_the_gate_against_the_baseline() -> None:
    assert main([]) == 0
