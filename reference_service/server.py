"""HTTP server limits for `serve`: header size, header count and a header-read timeout.

uvicorn bounds none of them with its default parser (httptools), and its keep-alive timer
only runs between requests, so a client that sends half a request head holds a connection
forever. `limited_protocol` subclasses uvicorn's httptools protocol to close such a
connection, and to answer 431 to an oversized head; one worker (uvicorn) and several
(gunicorn with `LimitedUvicornWorker`) serve through the same class.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

from reference_service.settings import Settings


class _HeadTooLargeError(Exception):
    """Raised from a parser callback; httptools turns it into a parser error."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """httptools protocol with bounded request heads (size, count, time to arrive)."""

    max_head_bytes = 32 * 1024
    max_headers = 100
    head_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_received = 0
        self._head_bytes = 0
        self._head_count = 0
        self._head_too_large = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # the first request head must arrive in time too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # httptools buffers a header value until it ends, so count raw bytes too: a head
        # still incomplete after more than the limit is refused without waiting for its end.
        if self._in_head:
            self._head_received += len(data)
        super().data_received(data)
        if (
            self._in_head
            and self._head_received > self.max_head_bytes
            and not self.transport.is_closing()
        ):
            self._head_too_large = True
            self.send_400_response("Request header fields too large.")

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_count = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_count += 1
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes or self._head_count > self.max_headers:
            self._head_too_large = True
            raise _HeadTooLargeError

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_received = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # what follows the body is the next request's head
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # An idle keep-alive connection is closed by uvicorn's keep-alive timer, but any byte
        # cancels that one: from here on, the next head must be complete in time.
        if not self.transport.is_closing():
            self._arm_head_timer()

    def send_400_response(self, msg: str) -> None:
        if not self._head_too_large:
            super().send_400_response(msg)
            return
        body = b"Request header fields too large."
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()


def limited_protocol(settings: Settings) -> type[LimitedHttpToolsProtocol]:
    """The protocol class with this configuration's limits."""
    return type(
        "ConfiguredHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_head_bytes": settings.http_max_header_bytes,
            "max_headers": settings.http_max_headers,
            "head_timeout_s": settings.http_header_timeout_s,
        },
    )


class LimitedUvicornWorker(UvicornWorker):  # type: ignore[misc]
    """gunicorn worker serving through the limited protocol (settings from the environment)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.CONFIG_KWARGS = {"loop": "auto", "http": limited_protocol(Settings())}
        super().__init__(*args, **kwargs)
