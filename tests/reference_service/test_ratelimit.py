"""Rate limits answer 429 with Retry-After, in-process and on Redis."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from reference_service.ratelimit import EXEMPT_HEADER
from reference_service.settings import Settings
from tests.builders import customer, order
from tests.reference_service.conftest import AppFactory, DisposableRedis

pytestmark = pytest.mark.req("REQ-SEC-004")


def _register(client: TestClient) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": "right-password", "full_name": "R"}
    assert client.post("/auth/register", json=body).status_code == 201
    return email


def _login(client: TestClient, email: str, password: str) -> int:
    return client.post("/auth/token", json={"email": email, "password": password}).status_code


def _assert_throttled(response_status: int, client: TestClient, email: str) -> None:
    assert response_status == 429
    response = client.post("/auth/token", json={"email": email, "password": "right-password"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_repeated_failed_logins_are_throttled(
    make_client: AppFactory, disposable_redis: DisposableRedis, storage: str
) -> None:
    redis_url = disposable_redis.url if storage == "redis" else ""
    _, client = make_client(rate_limit_login_failures="3/minute", redis_url=redis_url)
    email, other = _register(client), _register(client)
    assert [_login(client, email, "wrong-password") for _ in range(3)] == [401, 401, 401]
    _assert_throttled(_login(client, email, "wrong-password"), client, email)
    assert _login(client, other, "right-password") == 200  # another email is not affected


def test_successful_logins_are_not_counted(make_client: AppFactory) -> None:
    _, client = make_client(rate_limit_login_failures="2/minute")
    email = _register(client)
    assert [_login(client, email, "right-password") for _ in range(5)] == [200] * 5


def test_orders_per_user_per_minute(make_client: AppFactory) -> None:
    _, client = make_client(rate_limit_orders_per_user="2/minute")
    headers = customer(client)
    items = [{"product_id": 1, "quantity": 1}]
    assert [order(client, headers, items).status_code for _ in range(2)] == [201, 201]
    third = order(client, headers, items)
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) >= 1
    assert order(client, customer(client), items).status_code == 201


def test_per_client_ceiling_spares_health_checks(make_client: AppFactory) -> None:
    _, client = make_client(rate_limit_per_client="5/minute")
    assert [client.get("/products/1").status_code for _ in range(5)] == [200] * 5
    limited = client.get("/products/1")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert client.get("/health/ready").status_code == 200
    assert client.get("/metrics").status_code == 200


LOAD_TOKEN = "load-generator-token-" + "x" * 16


@pytest.mark.parametrize("path", ["/products/1", "/products?limit=5"])
def test_the_load_generators_token_exempts_it_from_the_per_client_ceiling_only(
    make_client: AppFactory, path: str
) -> None:
    _, client = make_client(
        rate_limit_per_client="3/minute",
        rate_limit_orders_per_user="1/minute",
        rate_limit_exempt_token=LOAD_TOKEN,
    )
    exempt = {EXEMPT_HEADER: LOAD_TOKEN}
    # Cached product reads (served before routing) and routed reads alike.
    assert [client.get(path, headers=exempt).status_code for _ in range(6)] == [200] * 6
    # A wrong token, or none, is counted like anyone.
    wrong = {EXEMPT_HEADER: LOAD_TOKEN[:-1] + "y"}
    answers = [client.get(path, headers=wrong).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert client.get(path).status_code == 429
    assert client.get(path, headers=exempt).status_code == 200
    # Never exempt from a per-user limit: the second order in the minute is refused.
    client.headers.update(exempt)
    headers = customer(client)
    items = [{"product_id": 1, "quantity": 1}]
    assert [order(client, headers, items).status_code for _ in range(2)] == [201, 429]


def test_an_exemption_token_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="RATE_LIMIT_EXEMPT_TOKEN must be 32"):
        Settings(rate_limit_exempt_token="short")


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_failed_logins_over_many_emails_are_limited_per_address(
    make_client: AppFactory, disposable_redis: DisposableRedis, storage: str
) -> None:
    redis_url = disposable_redis.url if storage == "redis" else ""
    _, client = make_client(rate_limit_login_failures_per_client="3/minute", redis_url=redis_url)
    known = _register(client)
    guesses = [f"{uuid.uuid4().hex[:10]}@example.com" for _ in range(4)]
    assert [_login(client, email, "guess-password") for email in guesses[:3]] == [401] * 3
    # A fourth email from the same address: throttled though this email never failed.
    _assert_throttled(_login(client, guesses[3], "guess-password"), client, known)


def test_taken_emails_at_registration_count_against_the_address(make_client: AppFactory) -> None:
    _, client = make_client(rate_limit_login_failures_per_client="2/minute")
    email = _register(client)
    again = {"email": email, "password": "other-password", "full_name": "R"}
    assert [client.post("/auth/register", json=again).status_code for _ in range(2)] == [409] * 2
    fresh = {
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "password": "p" * 12,
        "full_name": "F",
    }
    limited = client.post("/auth/register", json=fresh)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert (
        client.post("/auth/token", json={"email": email, "password": "x" * 12}).status_code == 429
    )
