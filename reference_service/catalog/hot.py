"""Cached product reads answered before routing.

`GET /products/{id}` is the hottest request of the browse mix, and once its JSON is cached the
answer is a dictionary lookup: FastAPI's routing and dependency resolution would cost several
times more than the answer itself. This ASGI layer, inside the metrics, tracing and edge
middleware, replays a cache hit directly, after the same per-client ceiling the routes apply.
Everything else goes on to the route: a miss (the route loads the product and fills the
cache), an id not written in canonical digits, the catalog cache switched off, and a client
over its ceiling (the route answers the 429). The layer only ever replays bytes the route
itself put in the cache, so the route stays the one source of truth.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from reference_service.middleware import ASGIApp, Receive, Scope, Send, header
from reference_service.ratelimit import EXEMPT_HEADER, RateLimitedError
from reference_service.runtime import Runtime

_PRODUCT_PATH = re.compile(r"/products/([1-9][0-9]{0,9})")
_MAX_ID = 2_147_483_647  # the route's own bound (ProductIdPath)
_JSON = b"application/json"
_EXEMPT = EXEMPT_HEADER.lower().encode()


class CachedProductReads:
    """Serve `GET /products/{id}` from the catalog cache when it holds the product."""

    def __init__(self, app: ASGIApp, runtime: Runtime, route: APIRoute) -> None:
        self.app = app
        self.runtime = runtime
        self.route = route  # what routing would have put in scope (metrics and span name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _PRODUCT_PATH.fullmatch(scope["path"])
            if match is not None and int(match[1]) <= _MAX_ID:
                body = await self._cached(scope, int(match[1]))
                if body is not None:
                    scope["route"] = self.route
                    headers = [
                        (b"content-length", str(len(body)).encode()),
                        (b"content-type", _JSON),
                    ]
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    async def _cached(self, scope: Scope, product_id: int) -> bytes | None:
        try:
            body = await self.runtime.catalog.cached_product(product_id)
        except Exception:  # noqa: BLE001 - the route meets it again and answers it properly
            return None  # (the flag snapshot's database read failing becomes the route's 503)
        if body is None:
            return None
        client = scope.get("client")
        try:
            token = header(scope, _EXEMPT)
            await self.runtime.limits.client_request(client[0] if client else "unknown", token)
        except RateLimitedError:
            return None  # the route counts it again, still over, and answers the 429
        self.runtime.catalog.served_hit()
        return body
