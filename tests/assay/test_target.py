"""The Target: from the environment, readiness polling, version, and the managed service."""

from __future__ import annotations

import httpx
import pytest

from assay.target import (
    Credentials,
    JwtSettings,
    Target,
    TargetError,
    TargetKind,
    managed_target,
    open_target,
    target_from_env,
    wait_ready,
)
from assay.testing import StubState, stub_service


def test_no_url_means_no_remote_target() -> None:
    assert target_from_env({}) is None


def test_a_remote_target_comes_from_the_environment() -> None:
    target = target_from_env(
        {
            "ASSAY_TARGET_URL": "https://shop.example.com/",
            "ASSAY_ADMIN_EMAIL": "ops@example.com",
            "ASSAY_ADMIN_PASSWORD": "pw-123456",
        }
    )
    assert target == Target(
        base_url="https://shop.example.com",
        kind=TargetKind.REMOTE,
        admin=Credentials("ops@example.com", "pw-123456"),
    )
    assert target.jwt is None


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(TargetError, match="http"):
        target_from_env({"ASSAY_TARGET_URL": "ftp://x"})


def test_env_hands_a_target_to_a_subprocess_unchanged() -> None:
    original = Target(
        base_url="http://127.0.0.1:1",
        kind=TargetKind.MANAGED,
        admin=Credentials("a@example.com", "pw-123456"),
        jwt=JwtSettings(secret="x" * 32),
        ledgers={"primary": "http://127.0.0.1:2", "fallback": "http://127.0.0.1:3"},
    )
    assert target_from_env(original.env()) == original


def test_gateway_ledgers_come_from_the_environment_and_are_described() -> None:
    target = target_from_env(
        {
            "ASSAY_TARGET_URL": "https://shop.example.com",
            "ASSAY_GATEWAY_LEDGERS": "primary=http://127.0.0.1:8100/, fallback=http://gw:8101",
        }
    )
    assert target is not None
    assert target.ledgers == {"primary": "http://127.0.0.1:8100", "fallback": "http://gw:8101"}
    assert target.describe()["ledgers"] == dict(target.ledgers)


@pytest.mark.parametrize(
    "value", ["primary", "primary=ftp://x", "=http://x", "a=http://x,a=http://y"]
)
def test_malformed_gateway_ledgers_are_refused(value: str) -> None:
    with pytest.raises(TargetError, match="ASSAY_GATEWAY_LEDGERS"):
        target_from_env({"ASSAY_TARGET_URL": "http://x", "ASSAY_GATEWAY_LEDGERS": value})


def test_open_target_records_the_remote_version() -> None:
    with stub_service() as stub, open_target(stub.base_url, environ={}) as target:
        assert target.kind is TargetKind.REMOTE
        assert target.version == "9.9.9-stub"
        assert "/health/ready" in stub.state.paths


def test_waiting_for_readiness_gives_up_at_the_deadline() -> None:
    with stub_service(StubState(ready_status=503)) as stub:
        with pytest.raises(TargetError, match="not 200 within"):
            wait_ready(stub.base_url, timeout_s=0.3)
        assert stub.state.paths.count("/health/ready") >= 2, "it polled, then gave up"


@pytest.mark.slow
def test_the_managed_reference_service_starts_ready_and_stops() -> None:
    with managed_target() as target:
        assert target.kind is TargetKind.MANAGED
        assert target.version
        assert target.admin is not None
        assert target.jwt is not None
        assert httpx.get(f"{target.base_url}/health/ready").status_code == 200
        assert set(target.ledgers) == {"primary", "fallback"}
        for name, url in target.ledgers.items():
            assert httpx.get(f"{url}/health").json()["name"] == name
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{target.base_url}/health/live", timeout=2)
    for url in target.ledgers.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health", timeout=2)
