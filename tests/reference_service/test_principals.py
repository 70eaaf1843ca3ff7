"""The bearer token's principal: verified in full once per process, then remembered until the
token expires or `AUTH_CACHE_TTL_S` passes, whichever is first; the role is the database's."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference_service import db
from reference_service.errors import DomainError
from reference_service.settings import Settings
from reference_service.users.models import Role, User
from reference_service.users.principals import Principals
from tests.builders import bearer, customer

pytestmark = pytest.mark.req("REQ-SEC-001")


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _signed(settings: Settings, sub: str, role: str = "customer") -> str:
    claims = {
        "sub": sub,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 600,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class CountingSessions:
    """The read sessions, counting how often a principal is looked up."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.opened = 0

    def __call__(self) -> AsyncSession:
        self.opened += 1
        return self.sessions()


def _with_principals(
    settings: Settings, use: Callable[[Principals, CountingSessions, Clock], object]
) -> None:
    async def run() -> None:
        engine = db.create_engine(settings)
        try:
            sessions = CountingSessions(db.create_sessionmaker(engine, writes=False))
            clock = Clock()
            principals = Principals(settings, sessions, clock=clock)  # type: ignore[arg-type]
            await use(principals, sessions, clock)  # type: ignore[misc]
        finally:
            await engine.dispose()

    asyncio.run(run())


async def _delete_user(settings: Settings, user_id: str) -> None:
    engine = db.create_engine(settings)
    try:
        async with db.create_sessionmaker(engine)() as session:
            await session.execute(delete(User).where(User.id == uuid.UUID(user_id)))
            await session.commit()
    finally:
        await engine.dispose()


def test_a_valid_token_of_a_user_that_does_not_exist_is_refused_everywhere(
    client: TestClient, settings: Settings
) -> None:
    stranger = bearer(_signed(settings, str(uuid.uuid4())))
    for method, path in [
        ("GET", "/users/me"),
        ("GET", "/cart"),
        ("PUT", "/cart/items/1"),
        ("GET", "/orders"),
        ("POST", "/orders"),
    ]:
        response = client.request(method, path, headers=stranger, json={"quantity": 1})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["detail"] == "The bearer token's user no longer exists."


def test_the_role_comes_from_the_database_not_the_token(
    client: TestClient, settings: Settings
) -> None:
    me = client.get("/users/me", headers=customer(client)).json()
    promoted = bearer(_signed(settings, me["id"], role="admin"))
    assert client.get("/users/me", headers=promoted).status_code == 200
    assert client.get("/admin/flags", headers=promoted).status_code == 403


def test_a_verified_token_is_looked_up_once_until_its_time_is_up(
    client: TestClient, settings: Settings
) -> None:
    headers = customer(client)
    token = _token(headers)
    user_id = client.get("/users/me", headers=headers).json()["id"]

    async def use(principals: Principals, sessions: CountingSessions, clock: Clock) -> None:
        first = await principals.of(token)
        assert (first.id, first.role) == (uuid.UUID(user_id), Role.CUSTOMER)
        for _ in range(5):
            assert await principals.of(token) == first
        assert sessions.opened == 1
        clock.now += settings.auth_cache_ttl_s + 1  # the verdict is old: verified again
        assert await principals.of(token) == first
        assert sessions.opened == 2
        await _delete_user(settings, user_id)  # out of band: no API deletes a user
        assert await principals.of(token) == first  # within the TTL, still remembered
        clock.now += settings.auth_cache_ttl_s + 1
        with pytest.raises(DomainError) as gone:
            await principals.of(token)
        assert gone.value.http_status == 401

    _with_principals(settings, use)


def test_a_remembered_token_ends_with_its_expiry(client: TestClient, settings: Settings) -> None:
    user_id = client.get("/users/me", headers=customer(client)).json()["id"]
    token = _signed(settings, user_id)
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    long_ttl = settings.model_copy(update={"auth_cache_ttl_s": 3600.0})

    async def use(principals: Principals, sessions: CountingSessions, clock: Clock) -> None:
        await principals.of(token)
        clock.now = expires_at - 1
        await principals.of(token)
        assert sessions.opened == 1
        clock.now = expires_at  # the remembered verdict ends here; the token is checked again
        await principals.of(token)
        assert sessions.opened == 2

    _with_principals(long_ttl, use)


def test_a_zero_ttl_verifies_every_time(client: TestClient, settings: Settings) -> None:
    token = _token(customer(client))
    uncached = settings.model_copy(update={"auth_cache_ttl_s": 0.0})

    async def use(principals: Principals, sessions: CountingSessions, clock: Clock) -> None:
        for _ in range(3):
            await principals.of(token)
        assert sessions.opened == 3

    _with_principals(uncached, use)


def test_the_memory_is_bounded(client: TestClient, settings: Settings) -> None:
    user_id = client.get("/users/me", headers=customer(client)).json()["id"]
    tokens = [_signed(settings, user_id, role=f"r{i}") for i in range(5)]

    async def use(principals: Principals, sessions: CountingSessions, clock: Clock) -> None:
        small = Principals(settings, sessions, capacity=3, clock=clock)  # type: ignore[arg-type]
        for token in tokens:
            await small.of(token)
        assert sessions.opened == 5
        await small.of(tokens[-1])  # among the three newest: remembered
        assert sessions.opened == 5
        await small.of(tokens[0])  # the oldest went first: looked up again
        assert sessions.opened == 6

    _with_principals(settings, use)
