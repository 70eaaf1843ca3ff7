"""The gateway seam: an HTTP client for one gateway (in-process simulator or a real URL)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from opentelemetry import propagate


class GatewayError(Exception):
    """The gateway did not give a usable answer.

    `ambiguous` is False when the request surely was not processed (no connection, 503, a
    fault injected before sending), True when it may have been (timeout after sending, 5xx).
    """

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class GatewayResult:
    """What a gateway said about a charge or refund."""

    approved: bool
    ref: str | None
    provider: str
    code: str | None = None


class HttpGateway:
    """One payment gateway reached over HTTP with a per-call timeout."""

    def __init__(self, name: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self.client = client

    async def _post(self, path: str, key: str, body: dict[str, object]) -> httpx.Response:
        headers = {"Idempotency-Key": key}
        propagate.inject(headers)  # W3C traceparent into the gateway call
        try:
            return await self.client.post(path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise GatewayError(f"{self.name}: {type(exc).__name__}", ambiguous=False) from exc
        except httpx.HTTPError as exc:
            raise GatewayError(f"{self.name}: {type(exc).__name__}", ambiguous=True) from exc

    def _result(self, response: httpx.Response, declined_status: int) -> GatewayResult:
        if response.status_code in (200, 201):
            data = response.json()
            return GatewayResult(approved=True, ref=str(data["id"]), provider=self.name)
        if response.status_code == declined_status:
            data = response.json()
            return GatewayResult(
                approved=False,
                ref=str(data.get("id")) if data.get("id") else None,
                provider=self.name,
                code=str(data.get("code") or "declined"),
            )
        ambiguous = response.status_code != 503  # 503: refused before processing
        raise GatewayError(f"{self.name}: HTTP {response.status_code}", ambiguous=ambiguous)

    async def charge(self, key: str, amount: int, currency: str, token: str) -> GatewayResult:
        """Charge once per key: the gateway replays its first answer for a repeated key."""
        body: dict[str, object] = {"amount": amount, "currency": currency, "token": token}
        return self._result(await self._post("/charges", key, body), declined_status=402)

    async def find_charge(self, key: str) -> GatewayResult | None:
        """Look a charge up by its idempotency key (reconciling a timed-out call)."""
        headers: dict[str, str] = {}
        propagate.inject(headers)
        try:
            response = await self.client.get(f"/charges/by-key/{key}", headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayError(f"{self.name}: {type(exc).__name__}", ambiguous=True) from exc
        if response.status_code == 404:
            return None
        return self._result(response, declined_status=402)

    async def refund(self, key: str, charge_ref: str, amount: int) -> GatewayResult:
        """Refund (part of) a charge, once per key."""
        body: dict[str, object] = {"charge_id": charge_ref, "amount": amount}
        return self._result(await self._post("/refunds", key, body), declined_status=404)
