"""A canned HTTP/1.1 responder for measuring the load generator, not a server.

Every request on a keep-alive connection gets the same small JSON answer, written from a
buffer: the responder costs a few microseconds a request, so the Locust row of the benchmark
shows what one Locust process can send rather than what the server behind it can answer.

    python -m perf.bench.responder PORT
"""

from __future__ import annotations

import asyncio
import sys

BODY = b'{"status":"ok"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
END_OF_HEAD = b"\r\n\r\n"


class Responder(asyncio.Protocol):
    """Answers each complete request head (GET: no body) with RESPONSE."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.pending += data
        heads = self.pending.count(END_OF_HEAD)
        if heads:
            self.pending = self.pending[self.pending.rindex(END_OF_HEAD) + len(END_OF_HEAD) :]
            self.transport.write(RESPONSE * heads)


async def serve(port: int) -> None:
    """Listen on loopback until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Responder, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
