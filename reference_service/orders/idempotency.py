"""Idempotency-Key handling after draft-ietf-httpapi-idempotency-key-header.

A key is claimed (inserted as in-flight) before any work; a completed request stores its
response for replay; a request that ends in a transient or validation failure releases the key
so the client may retry with it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, bindparam, delete, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.db import table_of, utcnow
from reference_service.errors import DomainError
from reference_service.orders.models import IdempotencyRecord

IN_FLIGHT = "in_flight"
COMPLETED = "completed"

_KEYS = table_of(IdempotencyRecord)
_THIS_KEY = (_KEYS.c.user_id == bindparam("uid")) & (_KEYS.c.key == bindparam("k"))


def _claim_statement(insert: postgresql.Insert | sqlite.Insert) -> Insert:
    """Insert the key in flight, or take over an expired record of it; returns the key if
    taken. Parameters: every column of the record."""
    taken_over = {c.key: insert.excluded[c.key] for c in _KEYS.columns if not c.primary_key}
    return insert.on_conflict_do_update(
        index_elements=[_KEYS.c.user_id, _KEYS.c.key],
        set_=taken_over,
        where=_KEYS.c.expires_at < insert.excluded.created_at,
    ).returning(_KEYS.c.key)


_CLAIM = {
    "postgresql": _claim_statement(postgresql.insert(_KEYS)),
    "sqlite": _claim_statement(sqlite.insert(_KEYS)),
}
_COMPLETE = (
    update(_KEYS)
    .where(_THIS_KEY)
    .values(
        state=COMPLETED,
        status_code=bindparam("status"),
        body=bindparam("response"),
        location=bindparam("where"),
    )
)


@dataclass(frozen=True)
class StoredResponse:
    """A response to send, first time or replayed."""

    status_code: int
    body: dict[str, Any]
    location: str | None = None
    replayed: bool = False


def validate_key(key: str | None) -> str:
    """1..255 printable ASCII characters, else 400."""
    if key is None or not 1 <= len(key) <= 255 or not all(" " < c < "\x7f" for c in key):
        raise DomainError(
            "invalid-idempotency-key",
            400,
            "Send an Idempotency-Key header of 1 to 255 printable characters.",
            title="Invalid Idempotency-Key",
        )
    return key


def fingerprint(payload: dict[str, Any]) -> str:
    """A digest of the request body, insensitive to key order and whitespace."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str,
    digest: str,
    *,
    ttl_seconds: int,
    now: datetime | None = None,
) -> StoredResponse | None:
    """Take the key for this request; a StoredResponse means replay it instead of working.

    One statement: insert the in-flight record, or take over an expired one. On PostgreSQL a
    concurrent request with the same key waits on the key until this transaction ends, then
    sees the record (in flight: 409) or, if this one rolled back, claims the key itself.
    `now` stamps the claim, so `release` can give back this claim and no later one.
    """
    now = now or utcnow()
    values = {
        "user_id": user_id,
        "key": key,
        "fingerprint": digest,
        "state": IN_FLIGHT,
        "status_code": None,
        "body": None,
        "location": None,
        "created_at": now,
        "expires_at": now + timedelta(seconds=ttl_seconds),
    }
    taken = await session.execute(_CLAIM[session.get_bind().dialect.name], values)
    if taken.first() is not None:
        return None
    existing = await session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    if existing is None:  # released between our insert and read: the caller may retry
        raise _in_flight()
    if existing.fingerprint != digest:
        # 409 rather than the draft's suggested 422 (a SHOULD): the request alone is valid; it
        # conflicts with what the key already stands for, server state, as a key still in
        # flight does (ADR-011). 422 stays for requests that are wrong in themselves.
        raise DomainError(
            "idempotency-key-reused",
            409,
            "This Idempotency-Key was used with a different request body.",
            title="Idempotency-Key reused",
        )
    if existing.state != COMPLETED or existing.status_code is None or existing.body is None:
        raise _in_flight()
    return StoredResponse(
        existing.status_code, json.loads(existing.body), existing.location, replayed=True
    )


def _in_flight() -> DomainError:
    return DomainError(
        "request-in-progress",
        409,
        "A request with this Idempotency-Key is still being processed.",
        title="Request in progress",
        headers={"Retry-After": "1"},
    )


async def complete(
    session: AsyncSession, user_id: uuid.UUID, key: str, response: StoredResponse
) -> None:
    """Store the final response for replay (no-op if the record is gone)."""
    body = json.dumps(response.body, separators=(",", ":"))
    await session.execute(
        _COMPLETE,
        {
            "uid": user_id,
            "k": key,
            "status": response.status_code,
            "response": body,
            "where": response.location,
        },
    )


async def release(
    session: AsyncSession, user_id: uuid.UUID, key: str, claimed_at: datetime | None = None
) -> None:
    """Give the key back so the client may retry with it: the in-flight claim made at
    `claimed_at` (one's own), or with None whichever claim is in flight."""
    mine = IdempotencyRecord.created_at == claimed_at if claimed_at is not None else true()
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.state == IN_FLIGHT,
            mine,
        )
    )
