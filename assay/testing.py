"""Test helpers for suite authors: a stub HTTP target that answers the health endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class StubState:
    """What the stub answers; tests change it while the stub runs."""

    version: str = "9.9.9-stub"
    ready_status: int = 200
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StubService:
    """A running stub: its base URL and mutable state."""

    base_url: str
    state: StubState


def _handler(state: StubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.paths.append(self.path)
            if self.path == "/health/live":
                self._send(200, {"status": "ok", "version": state.version})
            elif self.path == "/health/ready":
                self._send(
                    state.ready_status,
                    {"status": "ready" if state.ready_status == 200 else "not ready"},
                )
            else:
                self._send(
                    404, {"type": "/problems/not-found", "title": "Not found", "status": 404}
                )

        def _send(self, status: int, body: dict[str, object]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("X-Request-ID", "stub")
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def stub_service(state: StubState | None = None) -> Iterator[StubService]:
    """Serve the stub on a free loopback port in a thread; shut it down afterwards."""
    current = state or StubState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(current))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StubService(f"http://127.0.0.1:{server.server_address[1]}", current)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
