"""Pure ASGI middleware: request ids, security headers, body limits, content types."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog
from starlette.exceptions import HTTPException

from reference_service.errors import PROBLEM_MEDIA_TYPE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = ("application/json", "application/merge-patch+json")


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (the first of that name), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    problem = {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail}
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BodyTooLargeError(HTTPException):
    # An HTTPException, so FastAPI's body parsing re-raises it (to the 413 handler) instead of
    # turning it into a generic 400.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request bodies are limited to {limit} bytes.")


class EdgeMiddleware:
    """Request id in and out, security headers, 413 over the body limit, 415 for non-JSON."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(_SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        try:
            rejection = self._reject(scope)
            if rejection is not None:
                await _send_problem(send_with_headers, *rejection)
                return
            await self.app(scope, self._limited(receive), send_with_headers)
        except _BodyTooLargeError:
            if not started:
                await _send_problem(send_with_headers, *self._too_large())
        finally:
            structlog.contextvars.unbind_contextvars("request_id")

    def _too_large(self) -> tuple[int, str, str, str]:
        return (
            413,
            "payload-too-large",
            "Payload too large",
            f"Request bodies are limited to {self.max_body_bytes} bytes.",
        )

    def _reject(self, scope: Scope) -> tuple[int, str, str, str] | None:
        if scope["method"] not in _BODY_METHODS:
            return None
        length = header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "bad-request", "Bad request", "Content-Length is not a number."
            if int(length) > self.max_body_bytes:
                return self._too_large()
            if int(length) == 0:
                return None
        content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type not in _JSON_TYPES:
            return (
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the request body as application/json.",
            )
        return None

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLargeError(self.max_body_bytes)
            return message

        return limited_receive
