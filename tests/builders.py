"""Small builders for test data, all through the public API except the initial seed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference_service import db
from reference_service.seed import seed
from reference_service.settings import DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD, Settings


def seed_database(settings: Settings) -> None:
    """Load the deterministic seed (products and the admin)."""

    async def _run() -> None:
        engine = db.create_engine(settings)
        try:
            async with db.create_sessionmaker(engine).begin() as session:
                await seed(session, settings)
        finally:
            await engine.dispose()

    asyncio.run(_run())


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, email: str, password: str) -> dict[str, str]:
    """Log in and return auth headers."""
    response = client.post("/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def customer(client: TestClient, name: str = "Casey Customer") -> dict[str, str]:
    """Register a fresh customer and return their auth headers."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    response = client.post(
        "/auth/register", json={"email": email, "password": "s3cret-pass", "full_name": name}
    )
    assert response.status_code == 201, response.text
    return login(client, email, "s3cret-pass")


def admin(client: TestClient) -> dict[str, str]:
    """The seeded admin's auth headers."""
    return login(client, DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD)


def product(
    client: TestClient, admin_headers: dict[str, str], *, stock: int = 10, amount: int = 1000
) -> dict[str, Any]:
    """Create a product of our own through the admin API."""
    sku = f"T-{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/admin/products",
        json={
            "sku": sku,
            "name": f"Test product {sku}",
            "category": "testing",
            "price": {"amount": amount, "currency": "USD"},
            "stock": stock,
        },
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def order(
    client: TestClient,
    headers: dict[str, str],
    items: list[dict[str, int]] | None,
    *,
    token: str = "tok_visa",
    key: str | None = None,
) -> Any:
    """POST /orders with a fresh (or given) Idempotency-Key; returns the response."""
    body: dict[str, Any] = {"payment": {"token": token}}
    if items is not None:
        body["items"] = items
    return client.post(
        "/orders", json=body, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    )


@asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async client on the app in this event loop; the app's runtime is closed after."""
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await app.state.runtime.aclose()


async def async_customer(http: httpx.AsyncClient) -> dict[str, str]:
    """Register and log in a fresh customer with an async client."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": "s3cret-pass", "full_name": "Async Customer"}
    assert (await http.post("/auth/register", json=body)).status_code == 201
    token = await http.post("/auth/token", json={"email": email, "password": "s3cret-pass"})
    return bearer(token.json()["access_token"])


async def async_admin(http: httpx.AsyncClient) -> dict[str, str]:
    """The seeded admin's headers with an async client."""
    body = {"email": DEV_ADMIN_EMAIL, "password": DEV_ADMIN_PASSWORD}
    return bearer((await http.post("/auth/token", json=body)).json()["access_token"])
