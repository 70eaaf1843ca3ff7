"""An anchored audit head names truncation and rewriting of the live chain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from typer.testing import CliRunner

from assay.audit_anchor import AnchorError, check_run, read_anchor, record_head
from evidence.cli import evidence_app
from reference_service import db
from reference_service.admin import audit
from reference_service.admin.models import AuditEntry
from reference_service.settings import DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD, Settings
from tests.builders import admin, product

pytestmark = pytest.mark.req("REQ-ADM-001")


def _anchored_run(client: TestClient, tmp_path: Path) -> Path:
    boss = admin(client)
    item = product(client, boss, stock=1)
    for stock in (2, 3, 4):
        client.put(f"/admin/inventory/{item['id']}", json={"stock": stock}, headers=boss)
    record_head(tmp_path / "acceptance", client, boss)
    return tmp_path


def _check(client: TestClient, run_dir: Path) -> tuple[str, str]:
    result = check_run(run_dir, client, DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD)
    return result.status, result.detail


def _in_db(settings: Settings, change: str) -> None:
    async def act() -> None:
        engine = db.create_engine(settings)
        async with db.create_sessionmaker(engine).begin() as session:
            if change == "truncate":
                await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 3))
                return
            # Rewrite entry 4 and re-hash it with the service's own key: verify still passes.
            row = await session.scalar(select(AuditEntry).where(AuditEntry.seq == 4))
            assert row is not None
            row.after = {"stock": 400}
            row.hash = audit.entry_hash(
                settings.audit_key,
                row.seq,
                row.at.isoformat(timespec="microseconds"),
                row.actor,
                row.action,
                row.target,
                row.before,
                row.after,
                row.prev_hash,
            )
        await engine.dispose()

    asyncio.run(act())


def test_an_untouched_chain_matches_its_anchor(client: TestClient, tmp_path: Path) -> None:
    run_dir = _anchored_run(client, tmp_path)
    assert read_anchor(run_dir) == {
        "sequence": 4,
        "hash": client.get("/admin/audit/head", headers=admin(client)).json()["hash"],
    }
    assert _check(client, run_dir)[0] == "intact"


def test_deleting_the_newest_entries_after_anchoring_is_truncation(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    run_dir = _anchored_run(client, tmp_path)
    _in_db(settings, "truncate")
    assert client.get("/admin/audit/verify", headers=admin(client)).json()["valid"] is True
    assert _check(client, run_dir) == (
        "truncated",
        "the chain ends at 2, shorter than the anchored sequence 4",
    )


def test_editing_an_anchored_entry_is_rewriting(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    run_dir = _anchored_run(client, tmp_path)
    _in_db(settings, "rewrite")
    assert client.get("/admin/audit/verify", headers=admin(client)).json()["valid"] is True
    status, detail = _check(client, run_dir)
    assert status == "rewritten"
    assert detail.startswith("entry 4 has hash")


def test_a_run_without_an_anchor_is_a_clear_error(client: TestClient, tmp_path: Path) -> None:
    with pytest.raises(AnchorError, match=r"no audit_head\.json"):
        check_run(tmp_path, client, DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD)
    (tmp_path / "acceptance").mkdir()
    (tmp_path / "acceptance" / "audit_head.json").write_text(json.dumps({"sequence": "x"}))
    with pytest.raises(AnchorError, match="no integer sequence"):
        read_anchor(tmp_path)


def test_anchor_check_command_names_a_missing_anchor(tmp_path: Path) -> None:
    env = {"ASSAY_ADMIN_PASSWORD": DEV_ADMIN_PASSWORD}
    args = ["anchor-check", str(tmp_path), "--target-url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(evidence_app, args, env=env)
    assert result.exit_code == 2
    assert "no audit_head.json" in result.output
