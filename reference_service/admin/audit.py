"""Append to and verify the audit hash chain.

Each entry's hash is HMAC-SHA256, keyed with the service's audit key (settings, never the
database), over its canonical JSON (seq, at, actor, action, target, before, after, prev_hash):
changing, removing or reordering any entry breaks every hash after it, and someone who can
write the table but lacks the key cannot recompute the chain forward. Removing the newest
entries leaves a valid but shorter chain; the head (`head`) is anchored in evidence packs so
that truncation is named by comparing against the anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.admin.models import AuditEntry
from reference_service.db import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_ID = 7_726_001  # PostgreSQL advisory lock that serialises appends


def entry_hash(
    key: bytes,
    seq: int,
    at: str,
    actor: str,
    action: str,
    target: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> str:
    """The keyed hash of one entry's content and its predecessor's hash."""
    content = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _stamp(entry: AuditEntry) -> str:
    return entry.at.isoformat(timespec="microseconds")


async def append(
    session: AsyncSession,
    key: bytes,
    actor: str,
    action: str,
    target: str,
    before: Any,
    after: Any,
) -> AuditEntry:
    """Add an entry to the chain, in the caller's transaction."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})
    last = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    before = json.loads(json.dumps(before, default=str))
    after = json.loads(json.dumps(after, default=str))
    entry = AuditEntry(
        seq=seq, at=utcnow(), actor=actor, action=action, target=target, before=before, after=after
    )
    entry.prev_hash = prev
    entry.hash = entry_hash(key, seq, _stamp(entry), actor, action, target, before, after, prev)
    session.add(entry)
    await session.flush()
    return entry


async def head(session: AsyncSession) -> tuple[int, str]:
    """(sequence, hash) of the newest entry; (0, GENESIS) for an empty chain."""
    last = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    return (last.seq, last.hash) if last else (0, GENESIS)


async def verify(session: AsyncSession, key: bytes) -> tuple[bool, int, int | None]:
    """(valid, entries, first broken seq) for the whole chain, recomputed with `key`."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.seq))
    async for entry in result:
        count += 1
        recomputed = entry_hash(
            key,
            entry.seq,
            _stamp(entry),
            entry.actor,
            entry.action,
            entry.target,
            entry.before,
            entry.after,
            entry.prev_hash,
        )
        intact = hmac.compare_digest(entry.hash, recomputed)
        if entry.seq != expected_seq or entry.prev_hash != prev or not intact:
            return False, count, entry.seq
        prev = entry.hash
        expected_seq += 1
    return True, count, None
