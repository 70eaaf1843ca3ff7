"""Password hashing is capped per process: beyond the slots and the queue, 503 with Retry-After."""

from __future__ import annotations

import asyncio
import threading
import uuid

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from reference_service.auth import HashingBusyError, PasswordHashing
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-SEC-004")


def _hold_slot(client: TestClient, passwords: PasswordHashing) -> threading.Event:
    """Take the only hashing slot in the app's loop until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    async def holder() -> None:
        async with passwords.slot():
            held.set()
            await anyio.to_thread.run_sync(release.wait)

    assert client.portal is not None
    client.portal.start_task_soon(holder)
    assert held.wait(timeout=10)
    return release


def test_logins_beyond_the_cap_get_503_with_retry_after(make_client: AppFactory) -> None:
    app, client = make_client(password_hash_concurrency=1, password_hash_queue=0)
    unknown = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": "whatever-pass"}
    release = _hold_slot(client, app.state.runtime.passwords)
    try:
        # An unknown email still costs a hash, so it waits for a slot like everyone else.
        busy = client.post("/auth/token", json=unknown)
        assert busy.status_code == 503
        assert busy.headers["content-type"] == "application/problem+json"
        assert int(busy.headers["Retry-After"]) >= 1
        assert busy.json()["type"].endswith("hashing-busy")
        new = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": "p" * 12}
        assert client.post("/auth/register", json={**new, "full_name": "N"}).status_code == 503
    finally:
        release.set()
    assert client.post("/auth/token", json=unknown).status_code == 401


def test_a_full_queue_is_refused_at_once_and_a_queued_caller_gets_its_turn() -> None:
    async def scenario() -> None:
        passwords = PasswordHashing(1, queue=1, wait_s=30)
        held, release = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with passwords.slot():
                held.set()
                await release.wait()

        holding = asyncio.create_task(holder())
        await held.wait()
        queued = asyncio.create_task(passwords.verify(None, "some-password"))
        for _ in range(100):  # yields to the loop, bounded; no clock involved
            if passwords.waiting == 1:
                break
            await asyncio.sleep(0)
        assert passwords.waiting == 1
        with pytest.raises(HashingBusyError) as busy:
            await passwords.verify(None, "another-password")
        assert busy.value.http_status == 503
        assert busy.value.headers == {"Retry-After": "1"}
        release.set()
        await holding
        assert await queued is False  # an unknown user: verified against the dummy hash

    asyncio.run(scenario())


def test_a_wait_longer_than_the_bound_is_refused() -> None:
    async def scenario() -> None:
        passwords = PasswordHashing(1, queue=5, wait_s=0.01)
        held, release = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with passwords.slot():
                held.set()
                await release.wait()

        holding = asyncio.create_task(holder())
        await held.wait()
        with pytest.raises(HashingBusyError):
            await passwords.hash("some-password")  # the slot is held until after this returns
        assert passwords.waiting == 0
        release.set()
        await holding
        assert (await passwords.hash("some-password")).startswith("$argon2id$")

    asyncio.run(scenario())
