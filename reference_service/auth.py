"""Password hashing (argon2) and JWTs (HS256 by default, with an algorithm allow-list)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reference_service.db import utcnow
from reference_service.errors import DomainError
from reference_service.settings import Settings

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a login stays affordable under load
# (the library default, 64 MiB x 3 x 4 lanes, costs ~5x more CPU per login on 2 cores).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    # Verifying against this keeps unknown-user logins as slow as wrong-password ones.
    return _hasher.hash("not-a-real-password")


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class HashingBusyError(DomainError):
    """Every password-hashing slot is taken and the queue is full: come back shortly."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "hashing-busy",
            503,
            f"Too many logins at once; retry in {retry_after_s} s.",
            title="Service busy",
            headers={"Retry-After": str(retry_after_s)},
        )


class PasswordHashing:
    """Argon2id off the event loop, at most `concurrency` at once per process.

    A hash costs tens of milliseconds of a core, so unbounded logins exhaust the CPU and every
    request slows down. Beyond the slots, up to `queue` callers wait at most `wait_s`; anyone
    else is answered 503 with Retry-After at once instead of with rising latency.
    """

    def __init__(
        self, concurrency: int, *, queue: int, wait_s: float, retry_after_s: int = 1
    ) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._queue = queue
        self._wait_s = wait_s
        self._retry_after_s = retry_after_s
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """How many callers wait in the queue for a slot."""
        return self._waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one hashing slot; 503 when none frees up within the queue's bounds."""
        if self._slots.locked():
            if self._waiting >= self._queue:
                raise HashingBusyError(self._retry_after_s)
            self._waiting += 1
            try:
                async with asyncio.timeout(self._wait_s):
                    await self._slots.acquire()
            except TimeoutError:
                raise HashingBusyError(self._retry_after_s) from None
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        """Argon2id hash of a password, computed in a worker thread."""
        async with self.slot():
            return await anyio.to_thread.run_sync(_hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether the password matches; the same work (and slot) whether or not the user exists."""
        async with self.slot():
            return await anyio.to_thread.run_sync(_verify, stored_hash, password)


class UnauthorizedError(DomainError):
    """Missing or invalid credentials."""

    def __init__(self, detail: str = "Missing or invalid bearer token.") -> None:
        super().__init__(
            "unauthorized",
            401,
            detail,
            title="Unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="reference-service"'},
        )


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says."""

    user_id: uuid.UUID
    role: str
    expires_at: float  # seconds since the epoch


def issue_token(settings: Settings, user_id: uuid.UUID, role: str) -> str:
    """A signed, short-lived access token."""
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.jwt_ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """Verify signature, algorithm, expiry, issuer and audience; anything else is a 401."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return TokenClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            role=str(claims.get("role")),
            expires_at=float(claims["exp"]),
        )
    except (jwt.PyJWTError, ValueError) as exc:
        raise UnauthorizedError("The bearer token is invalid or expired.") from exc
