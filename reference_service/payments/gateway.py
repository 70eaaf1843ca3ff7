"""The gateway seam: an HTTP client for one gateway (in-process simulator or a real URL)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from opentelemetry import propagate


class GatewayError(Exception):
    """The gateway did not give a usable answer.

    `ambiguous` is False only when the request surely was not processed: never sent (no
    connection, a fault injected before sending, an open breaker) or refused by the gateway
    itself with a 503. Anything else may have been processed (a timeout after sending, a 5xx,
    an answer that cannot be read) and is ambiguous. A failed by-key lookup says nothing about
    the charge it was asked about: see `HttpGateway.find_charge`.

    `in_flight` is True when the request was sent and no answer came (a timeout or a broken
    connection after sending): the gateway may still be working on it and record the charge
    later, so even its answer "no such charge" to a lookup proves nothing yet.
    """

    def __init__(self, message: str, *, ambiguous: bool, in_flight: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.in_flight = in_flight


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
            # Sent, and no answer: the gateway may still be processing it.
            message = f"{self.name}: {type(exc).__name__}"
            raise GatewayError(message, ambiguous=True, in_flight=True) from exc

    def _result(self, response: httpx.Response, declined_status: int) -> GatewayResult:
        if response.status_code in (200, 201, declined_status):
            approved = response.status_code != declined_status
            try:
                data = response.json()
                ref, code = data.get("id"), data.get("code")
            except (ValueError, AttributeError) as exc:
                ref = code = None
                if approved:  # it answered yes, but unreadably: what it did is unknown
                    raise GatewayError(f"{self.name}: unreadable answer", ambiguous=True) from exc
            if approved and not ref:
                raise GatewayError(f"{self.name}: answer without an id", ambiguous=True)
            return GatewayResult(
                approved=approved,
                ref=str(ref) if ref else None,
                provider=self.name,
                code=None if approved else str(code or "declined"),
            )
        ambiguous = response.status_code != 503  # 503: the gateway refused before processing
        raise GatewayError(f"{self.name}: HTTP {response.status_code}", ambiguous=ambiguous)

    async def charge(self, key: str, amount: int, currency: str, token: str) -> GatewayResult:
        """Charge once per key: the gateway replays its first answer for a repeated key."""
        body: dict[str, object] = {"amount": amount, "currency": currency, "token": token}
        return self._result(await self._post("/charges", key, body), declined_status=402)

    async def find_charge(self, key: str) -> GatewayResult | None:
        """Look a charge up by its idempotency key (reconciling a timed-out call).

        None only when the gateway positively answers 404 (no charge with this key). Any other
        failure, a 503 included, raises an ambiguous GatewayError: the lookup failed, so
        whether the charge happened is still unknown.
        """
        headers: dict[str, str] = {}
        propagate.inject(headers)
        try:
            response = await self.client.get(f"/charges/by-key/{key}", headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayError(f"{self.name}: lookup {type(exc).__name__}", ambiguous=True) from exc
        if response.status_code == 404:
            return None
        try:
            return self._result(response, declined_status=402)
        except GatewayError as exc:
            raise GatewayError(f"{self.name}: lookup failed ({exc})", ambiguous=True) from exc

    async def refund(self, key: str, charge_ref: str, amount: int) -> GatewayResult:
        """Refund (part of) a charge, once per key."""
        body: dict[str, object] = {"charge_id": charge_ref, "amount": amount}
        return self._result(await self._post("/refunds", key, body), declined_status=404)
