"""What every response carries, and bad input that must be a clear 4xx (never a 500)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.builders import customer

pytestmark = pytest.mark.req("REQ-SEC-003")


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health/live", headers={"X-Request-ID": "bad id\twith junk"})
    assert generated.headers["X-Request-ID"] != "bad id\twith junk"
    assert len(generated.headers["X-Request-ID"]) == 32


@pytest.mark.parametrize("path", ["/health/live", "/products", "/nope", "/users/me"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Request-ID" in response.headers


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) >= {"type", "title", "status", "detail"}


def test_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    big = json.dumps({"email": "a@example.com", "password": "x" * (1024 * 1024), "full_name": "A"})
    response = client.post(
        "/auth/register", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(300):
            yield b"x" * 4096
        yield b'", "full_name": "A"}'

    response = client.post(
        "/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/auth/register", content="email=a", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[]",
        b"null",
        b'{"email": "a@example.com", "password": NaN, "full_name": "A"}',
        b'{"email": "a@example.com", "password": "long-enough-1", "full_name": "\\u0000"}',
        b'{"email": "a@example.com", "password": "long-enough-1", "full_name": "\\ud800"}',
        b'{"email": "a\\u0000@example.com", "password": "long-enough-1", "full_name": "A"}',
        b'{"email": "a@example.com", "password": "long-enough-1", "full_name": 1e999}',
        b"\xff\xfe garbage",
    ],
)
def test_malformed_bodies_are_4xx_problems(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/auth/register", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "quantity", ["10" * 40, "1e308", "NaN", "Infinity", "-0", "99999999999999999999"]
)
def test_hostile_numbers_are_rejected(client: TestClient, quantity: str) -> None:
    headers = {**customer(client), "content-type": "application/json"}
    raw = f'{{"quantity": {quantity}}}'
    response = client.put("/cart/items/1", content=raw, headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "raw_query",
    ["%00", "a%ED%B2%80b", "%FF%FE", "%25", "_", "%27%20OR%201%3D1%20--", "x" * 101, "a&q=b"],
)
def test_hostile_search_text_is_never_a_500(client: TestClient, raw_query: str) -> None:
    response = client.get(f"/products?q={raw_query}")
    assert response.status_code in {200, 422}


def test_errors_never_leak_internals(client: TestClient) -> None:
    response = client.post(
        "/auth/register",
        content=b'{"email": "a@example.com", "password": 5, "full_name": "A"}',
        headers={"content-type": "application/json"},
    )
    text = response.text.lower()
    for leak in ("traceback", "sqlalchemy", "select ", "reference_service", '"input"'):
        assert leak not in text


@pytest.mark.parametrize("path", ["/products/", "/cart/", "/health/live/"])
def test_a_trailing_slash_never_redirects_off_site(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert "evil.example" not in response.headers.get("location", "")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
