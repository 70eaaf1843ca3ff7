"""Registration, login, profile; JWT negatives."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from reference_service.settings import Settings
from tests.builders import bearer, customer

pytestmark = pytest.mark.req("REQ-USR-001")


def _register(client: TestClient, email: str, password: str = "long-enough-1") -> httpx.Response:
    return client.post(
        "/auth/register", json={"email": email, "password": password, "full_name": "Pat"}
    )


def test_register_returns_the_user_without_secrets(client: TestClient) -> None:
    response = _register(client, "Pat@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "pat@example.com"
    assert body["role"] == "customer"
    assert set(body) == {"id", "email", "full_name", "role"}


def test_register_twice_is_a_conflict(client: TestClient) -> None:
    assert _register(client, "dup@example.com").status_code == 201
    again = _register(client, "DUP@example.com")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com", "password": "short", "full_name": "A"},
        {"email": "not-an-email", "password": "long-enough-1", "full_name": "A"},
        {"email": "a@example.com", "password": "long-enough-1", "full_name": ""},
        {"email": "a@example.com", "password": "long-enough-1"},
    ],
)
def test_register_rejects_invalid_input(client: TestClient, body: dict[str, str]) -> None:
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["status"] == 422


@pytest.mark.req("REQ-SEC-002")
def test_register_cannot_choose_a_role(client: TestClient) -> None:
    response = client.post(
        "/auth/register",
        json={
            "email": "x@example.com",
            "password": "long-enough-1",
            "full_name": "X",
            "role": "admin",
        },
    )
    assert response.status_code == 422


def test_login_gives_a_bearer_token(client: TestClient) -> None:
    _register(client, "login@example.com")
    response = client.post(
        "/auth/token", json={"email": "login@example.com", "password": "long-enough-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = client.get("/users/me", headers=bearer(body["access_token"]))
    assert me.json()["email"] == "login@example.com"


def test_unknown_user_and_wrong_password_look_the_same(client: TestClient) -> None:
    _register(client, "known@example.com")
    wrong = client.post("/auth/token", json={"email": "known@example.com", "password": "nope-nope"})
    unknown = client.post(
        "/auth/token", json={"email": "ghost@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.mark.req("REQ-SEC-002")
def test_profile_update_changes_the_name_but_never_the_role(client: TestClient) -> None:
    headers = customer(client)
    renamed = client.patch("/users/me", json={"full_name": "New Name"}, headers=headers)
    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "New Name"
    escalate = client.patch("/users/me", json={"full_name": "X", "role": "admin"}, headers=headers)
    assert escalate.status_code == 422
    assert client.get("/users/me", headers=headers).json()["role"] == "customer"


def _forge(settings: Settings, **overrides: object) -> str:
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "role": "admin",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 600,
    }
    claims.update(overrides)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@pytest.mark.req("REQ-SEC-001")
def test_tokens_that_must_not_authenticate(client: TestClient, settings: Settings) -> None:
    headers = customer(client)
    good = headers["Authorization"].removeprefix("Bearer ")
    me_id = client.get("/users/me", headers=headers).json()["id"]
    header, payload, signature = good.split(".")
    unsigned = jwt.encode({"sub": me_id}, key=None, algorithm="none")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    bad_tokens = {
        "alg none": unsigned,
        "tampered": tampered,
        "expired": _forge(settings, sub=me_id, exp=int(time.time()) - 10),
        "wrong audience": _forge(settings, sub=me_id, aud="someone-else"),
        "wrong issuer": _forge(settings, sub=me_id, iss="evil"),
        "wrong key": jwt.encode({"sub": me_id, "exp": int(time.time()) + 60}, "x" * 40),
        "garbage": "not.a.jwt",
    }
    for name, token in bad_tokens.items():
        response = client.get("/users/me", headers=bearer(token))
        assert response.status_code == 401, name
        assert "WWW-Authenticate" in response.headers, name
    assert client.get("/users/me").status_code == 401
