"""Who a bearer token speaks for: verified once per process, then remembered for a while.

Every authenticated request used to verify the JWT and read its user in a session of its own
before the route opened the one it works in: two transactions and a signature check for a
`GET /cart`. A token's verdict cannot change before it expires except through its user's row,
and no API deletes a user or changes a role (the seed promotes the admin before the service
serves), so the verdict is kept per token: until the token expires, and at most
`AUTH_CACHE_TTL_S` (a role changed out of band takes effect within that time; 0 turns the
cache off). A token is remembered only after it passed every check, keyed by its exact text,
so a tampered copy is a different key and is verified in full.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service.auth import UnauthorizedError, decode_token
from reference_service.settings import Settings
from reference_service.users.models import Role, User

CAPACITY = 10_000  # tokens remembered per process; the oldest goes first


@dataclass(frozen=True)
class Principal:
    """The caller: a user that exists, with its role as the database holds it."""

    id: uuid.UUID
    role: Role


class Principals:
    """Bearer token -> Principal, verified in full on first sight and remembered after."""

    def __init__(
        self,
        settings: Settings,
        read_sessions: async_sessionmaker[AsyncSession],
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._read_sessions = read_sessions
        self._capacity = capacity
        self._clock = clock
        self._known: dict[str, tuple[Principal, float]] = {}

    async def of(self, token: str) -> Principal:
        """The principal of a valid token; 401 for any token that is not (or no longer) one."""
        now = self._clock()
        known = self._known.get(token)
        if known is not None:
            if now < known[1]:
                return known[0]
            del self._known[token]
        claims = decode_token(self._settings, token)
        async with self._read_sessions() as session:
            role = await session.scalar(select(User.role).where(User.id == claims.user_id))
        if role is None:
            raise UnauthorizedError("The bearer token's user no longer exists.")
        principal = Principal(claims.user_id, Role(role))
        ttl_s = self._settings.auth_cache_ttl_s
        if ttl_s > 0:
            if len(self._known) >= self._capacity:
                del self._known[next(iter(self._known))]
            self._known[token] = (principal, min(claims.expires_at, now + ttl_s))
        return principal
