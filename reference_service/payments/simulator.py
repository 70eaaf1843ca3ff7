"""A payment gateway simulator: its own ASGI app, in-process by default or a separate process.

Test tokens: `tok_visa` approves, `tok_decline` declines. Charges and refunds are idempotent on
the `Idempotency-Key` header. Fault knobs (`PUT /_faults`) add latency, random errors, a hard
outage, or a delay after a charge is recorded (the "timed out but charged" case).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    """Fault knobs; all off by default."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    error_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    down: bool = False
    post_charge_delay_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class ChargeIn(BaseModel):
    """A charge request."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=1)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    token: Annotated[str, Field(max_length=64)]


class RefundIn(BaseModel):
    """A refund of (part of) a charge."""

    model_config = ConfigDict(extra="forbid")

    charge_id: str
    amount: Annotated[int, Field(ge=1)]


@dataclass
class Ledger:
    """What the gateway has done, keyed by the caller's idempotency key."""

    faults: Faults = field(default_factory=Faults)
    charges: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    refunds: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    captures: int = 0
    requests: int = 0
    last_traceparent: str | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(20261126))  # noqa: S311
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_gateway_app(name: str = "simulator") -> FastAPI:
    """Build one simulated gateway; each app has its own ledger."""
    app = FastAPI(
        title=f"Payment gateway simulator ({name})",
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    ledger = Ledger()
    app.state.ledger = ledger

    async def _faulted(request: Request) -> JSONResponse | None:
        ledger.requests += 1
        ledger.last_traceparent = request.headers.get("traceparent")
        faults = ledger.faults
        if faults.down:
            return JSONResponse({"error": "gateway_down"}, status_code=503)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and ledger.rng.random() < faults.error_rate:
            return JSONResponse({"error": "gateway_error"}, status_code=500)
        return None

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "down" if ledger.faults.down else "ok", "name": name}

    @app.get("/_faults")
    async def get_faults() -> Faults:
        return ledger.faults

    @app.put("/_faults")
    async def set_faults(faults: Faults) -> Faults:
        ledger.faults = faults
        return faults

    @app.get("/_stats")
    async def stats() -> dict[str, int]:
        return {
            "charges": len(ledger.charges),
            "captures": ledger.captures,
            "refunds": len(ledger.refunds),
            "requests": ledger.requests,
        }

    @app.post("/charges")
    async def charge(
        request: Request, body: ChargeIn, idempotency_key: Annotated[str, Header(max_length=128)]
    ) -> Response:
        if (failure := await _faulted(request)) is not None:
            return failure
        async with ledger.lock:
            if idempotency_key not in ledger.charges:
                approved = body.token != "tok_decline"  # noqa: S105 - a test token
                result = {
                    "id": f"ch_{uuid.uuid4().hex[:24]}",
                    "status": "succeeded" if approved else "failed",
                    "amount": body.amount,
                    "currency": body.currency,
                    "code": None if approved else "card_declined",
                }
                ledger.charges[idempotency_key] = (201 if approved else 402, result)
                ledger.captures += int(approved)
            status, result = ledger.charges[idempotency_key]
        if ledger.faults.post_charge_delay_ms:
            await asyncio.sleep(ledger.faults.post_charge_delay_ms / 1000)
        return JSONResponse(result, status_code=status)

    @app.get("/charges/by-key/{idempotency_key}")
    async def find_charge(request: Request, idempotency_key: str) -> Response:
        if (failure := await _faulted(request)) is not None:
            return failure
        if idempotency_key not in ledger.charges:
            return JSONResponse({"error": "not_found"}, status_code=404)
        status, result = ledger.charges[idempotency_key]
        return JSONResponse(result, status_code=200 if status == 201 else status)

    @app.post("/refunds")
    async def refund(
        request: Request, body: RefundIn, idempotency_key: Annotated[str, Header(max_length=128)]
    ) -> Response:
        if (failure := await _faulted(request)) is not None:
            return failure
        async with ledger.lock:
            if idempotency_key not in ledger.refunds:
                known = any(r["id"] == body.charge_id for _, r in ledger.charges.values())
                result = {
                    "id": f"re_{uuid.uuid4().hex[:24]}",
                    "status": "succeeded" if known else "failed",
                    "amount": body.amount,
                    "code": None if known else "unknown_charge",
                }
                ledger.refunds[idempotency_key] = (201 if known else 404, result)
            status, result = ledger.refunds[idempotency_key]
        return JSONResponse(result, status_code=status)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal"}, status_code=500)

    return app
