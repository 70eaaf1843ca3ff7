"""The audit chain is keyed: rewriting it without the service's key is detected."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reference_service import db
from reference_service.admin import audit
from reference_service.admin.models import AuditEntry
from reference_service.settings import Settings
from tests.builders import admin, product

Hasher = Callable[[AuditEntry, str], str]


def _canonical(entry: AuditEntry, prev_hash: str) -> bytes:
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def _plain_sha256(entry: AuditEntry, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(entry, prev_hash)).hexdigest()


def _other_key(entry: AuditEntry, prev_hash: str) -> str:
    return audit.entry_hash(
        b"not-the-service-key-" * 2,
        entry.seq,
        entry.at.isoformat(timespec="microseconds"),
        entry.actor,
        entry.action,
        entry.target,
        entry.before,
        entry.after,
        prev_hash,
    )


def _rewrite_from(settings: Settings, seq: int, hasher: Hasher) -> None:
    """Edit entry `seq` and recompute every hash from it forward, as an attacker would."""

    async def rewrite() -> None:
        engine = db.create_engine(settings)
        async with db.create_sessionmaker(engine).begin() as session:
            rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
            prev = audit.GENESIS
            for row in rows:
                if row.seq == seq:
                    row.after = {"stock": 300}
                if row.seq >= seq:
                    row.prev_hash = prev
                    row.hash = hasher(row, prev)
                prev = row.hash
        await engine.dispose()

    asyncio.run(rewrite())


def _audited_history(client: TestClient) -> dict[str, str]:
    boss = admin(client)
    item = product(client, boss, stock=1)
    for stock in (2, 3, 4):
        client.put(f"/admin/inventory/{item['id']}", json={"stock": stock}, headers=boss)
    return boss


@pytest.mark.req("REQ-ADM-001")
@pytest.mark.parametrize("hasher", [_plain_sha256, _other_key], ids=["plain-sha256", "other-key"])
def test_a_chain_recomputed_forward_without_the_key_is_detected(
    client: TestClient, settings: Settings, hasher: Hasher
) -> None:
    boss = _audited_history(client)
    assert client.get("/admin/audit/verify", headers=boss).json()["valid"] is True
    _rewrite_from(settings, 2, hasher)
    assert client.get("/admin/audit/verify", headers=boss).json() == {
        "valid": False,
        "entries": 2,
        "first_broken_seq": 2,
    }


@pytest.mark.req("REQ-ADM-001")
def test_the_head_is_the_newest_entry(client: TestClient) -> None:
    boss = admin(client)
    assert client.get("/admin/audit/head", headers=boss).json() == {
        "sequence": 0,
        "hash": audit.GENESIS,
    }
    _audited_history(client)
    entries = client.get("/admin/audit", headers=boss).json()["items"]
    assert client.get("/admin/audit/head", headers=boss).json() == {
        "sequence": 4,
        "hash": entries[-1]["hash"],
    }


def test_the_audit_key_comes_from_settings_and_is_never_the_bare_jwt_secret() -> None:
    derived = Settings(jwt_secret="j" * 40)
    assert derived.audit_key != derived.jwt_secret.encode()
    assert derived.audit_key != Settings(jwt_secret="k" * 40).audit_key
    assert Settings(audit_hmac_key="a" * 32).audit_key == b"a" * 32
    with pytest.raises(ValueError, match="AUDIT_HMAC_KEY"):
        Settings(audit_hmac_key="short")
