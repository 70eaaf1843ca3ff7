"""The committed contract: exported deterministically, and equal to the app's live schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.export import (
    CONTRACT,
    REGENERATE,
    ContractError,
    app_document,
    check_operation_ids,
    main,
    render,
)

pytestmark = pytest.mark.req("REQ-API-001")


def test_export_is_byte_for_byte_stable() -> None:
    first, second = render(app_document()), render(app_document())
    assert first == second
    assert first.endswith("}\n")
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_committed_contract_matches_the_live_schema() -> None:
    live = render(app_document())
    committed = CONTRACT.read_text(encoding="utf-8")
    assert committed == live, f"contracts/openapi.json is stale; regenerate it with `{REGENERATE}`"


def test_check_fails_on_drift_and_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "openapi.json"
    document = json.loads(CONTRACT.read_text(encoding="utf-8"))
    del document["paths"]["/cart"]
    stale.write_text(render(document), encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    out = capsys.readouterr().out
    assert REGENERATE in out
    assert '+    "/cart": {' in out


def test_check_passes_after_writing(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert main(["--output", str(target)]) == 0
    assert main(["--check", "--output", str(target)]) == 0


def test_every_operation_id_is_tag_dash_name() -> None:
    ids = [op["operationId"] for item in app_document()["paths"].values() for op in item.values()]
    assert "orders-create" in ids
    assert len(ids) == len(set(ids))
    with pytest.raises(ContractError, match="operationId"):
        check_operation_ids(
            {"paths": {"/x": {"get": {"operationId": "read_x_get", "tags": ["x"]}}}}
        )
