"""Request heads are bounded by the shipped `serve`: size, header count, time to arrive.

Raw sockets against a real `serve` subprocess (one worker: uvicorn; two: gunicorn with our
worker class), since these limits live in the server, below the ASGI app.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reference_service.test_cli import _run, served

# Generous bound for the server to act; the configured header timeout is 1 s.
SOCKET_TIMEOUT_S = 15
HEAD_TIMEOUT = "1"


@pytest.fixture(scope="module", params=["1", pytest.param("2", marks=pytest.mark.slow)])
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp(f"limits{request.param}")
    assert _run(tmp, "migrate").returncode == 0
    with served(tmp, "--workers", request.param, HTTP_HEADER_TIMEOUT_S=HEAD_TIMEOUT) as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_S)
    sock.settimeout(SOCKET_TIMEOUT_S)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after its answer counts as closed)."""
    received = b""
    for _ in range(1000):  # bounded: each recv waits at most SOCKET_TIMEOUT_S
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError("server kept sending")


def _send_until_answered(sock: socket.socket, head: bytes) -> bytes:
    """Send `head` in pieces, stopping as soon as the server answers; return its answer."""
    for start in range(0, len(head), 16384):
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(head[start : start + 16384])
        except (BrokenPipeError, ConnectionResetError):
            break
    return _read_until_closed(sock)


def test_a_normal_request_is_served(base_url: str) -> None:
    with _connect(base_url) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200")


def test_a_one_megabyte_header_is_refused_and_the_connection_closed(base_url: str) -> None:
    head = b"GET /health/live HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    with _connect(base_url) as sock:
        answer = _send_until_answered(sock, head)
    assert answer.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), answer[:80]


def test_two_thousand_headers_are_refused(base_url: str) -> None:
    lines = b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    head = b"GET /health/live HTTP/1.1\r\nHost: t\r\n" + lines + b"\r\n"
    assert len(head) < 32 * 1024  # under the size limit: the count is what refuses it
    with _connect(base_url) as sock:
        answer = _send_until_answered(sock, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]


def test_half_a_head_then_silence_is_closed_by_the_server(base_url: str) -> None:
    with _connect(base_url) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        # recv blocks until the server closes; a server that waits forever trips the timeout.
        assert _read_until_closed(sock) == b""


def test_a_silent_connection_is_closed_by_the_server(base_url: str) -> None:
    with _connect(base_url) as sock:
        assert _read_until_closed(sock) == b""


def test_a_slow_head_after_a_keep_alive_request_is_closed(base_url: str) -> None:
    with _connect(base_url) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHo")
        rest = _read_until_closed(sock)
    assert b"HTTP/1.1" not in rest  # closed, the second request never answered
