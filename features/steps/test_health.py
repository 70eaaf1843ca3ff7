"""Health and readiness (features/health)."""

from __future__ import annotations

import httpx
from pytest_bdd import scenarios, then, when

from features.support.api import expect

scenarios("health")


@when("someone asks whether the service is alive", target_fixture="response")
def ask_alive(http: httpx.Client) -> httpx.Response:
    return http.get("/health/live")


@when("someone asks whether the service is ready", target_fixture="response")
def ask_ready(http: httpx.Client) -> httpx.Response:
    return http.get("/health/ready")


@then("the response names the service status and version")
def names_status_and_version(response: httpx.Response) -> None:
    body = expect(response, 200, "liveness")
    if not body.get("status") or not body.get("version"):
        raise AssertionError(f"expected a status and a version, got {body}")


@then("the response carries an X-Request-ID header")
def carries_request_id(response: httpx.Response) -> None:
    if not response.headers.get("X-Request-ID", "").strip():
        raise AssertionError(
            f"no X-Request-ID on {response.request.method} {response.request.url.path}"
        )
