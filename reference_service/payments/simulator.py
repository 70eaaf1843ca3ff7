"""A payment gateway simulator: its own ASGI app, in-process by default or a separate process.

Test tokens: `tok_visa` approves, `tok_decline` declines. Charges and refunds are idempotent on
the `Idempotency-Key` header. `GET /ledger` lists every charge and refund it ever recorded, so
a harness can compare the gateway's money with the service's. Fault knobs (`PUT /_faults`) add
latency, random errors, a hard outage, and the ambiguous windows where money goes missing:
a charge recorded and then answered late or with an error, lookups by key that fail or stall,
refunds that fail (not recorded) or stall (recorded, answered late). Given a ledger file, the
gateway appends every entry to it and reads it back on start: like a real gateway's, its
ledger outlives the process (a chaos experiment may kill it).
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Delay = Annotated[int, Field(ge=0, le=60_000)]
ErrorStatus = Annotated[int, Field(ge=400, le=599)]
# The gateway's contract: a 503 means it refused the request before processing it (clients
# may then try elsewhere). Any other failure may follow processing and must be looked up.
REFUSED = 503


def _not_refused(status: int | None) -> int | None:
    if status == REFUSED:
        raise ValueError(
            "a charge answered 503 after it was recorded would break the gateway's contract "
            "(503: refused before processing); use another 4xx/5xx status"
        )
    return status


class Faults(BaseModel):
    """Fault knobs; all off by default."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: Delay = 0
    error_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    down: bool = False
    # Charges: recorded first, then the answer is stalled and/or replaced by this status.
    post_charge_delay_ms: Delay = 0
    charge_answer_status: Annotated[ErrorStatus | None, AfterValidator(_not_refused)] = None
    # Lookups by key: stalled, then answered with this status instead of the truth.
    lookup_status: ErrorStatus | None = None
    lookup_delay_ms: Delay = 0
    # Refunds: a status answers without recording; a delay records, then stalls the answer.
    refund_status: ErrorStatus | None = None
    refund_delay_ms: Delay = 0


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


@dataclass(frozen=True)
class Entry:
    """One recorded charge or refund: the answer replayed for its key, and when it happened."""

    status_code: int
    body: dict[str, Any]
    at: datetime


@dataclass
class Ledger:
    """What the gateway has done, keyed by the caller's idempotency key, in order; entries are
    never removed."""

    faults: Faults = field(default_factory=Faults)
    charges: dict[str, Entry] = field(default_factory=dict)
    refunds: dict[str, Entry] = field(default_factory=dict)
    requests: int = 0
    last_traceparent: str | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(20261126))  # noqa: S311
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    file: Path | None = None  # where entries are appended, one JSON line each

    def record(self, kind: str, key: str, entry: Entry) -> None:
        """Keep a new charge or refund (and append it to the ledger file, if any)."""
        (self.charges if kind == "charge" else self.refunds)[key] = entry
        if self.file is not None:
            line = {"kind": kind, "key": key, "status_code": entry.status_code}
            line |= {"body": entry.body, "at": entry.at.isoformat()}
            with self.file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")

    def load(self, path: Path) -> None:
        """Read back the entries a previous process appended to `path`, then append to it."""
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                if not raw.strip():
                    continue
                line = json.loads(raw)
                entry = Entry(line["status_code"], line["body"], datetime.fromisoformat(line["at"]))
                (self.charges if line["kind"] == "charge" else self.refunds)[line["key"]] = entry
        self.file = path

    @property
    def captures(self) -> int:
        """Charges that took money."""
        return sum(entry.body["status"] == "succeeded" for entry in self.charges.values())

    def view(self, name: str) -> dict[str, Any]:
        """The ledger as `GET /ledger` shows it."""
        return {
            "gateway": name,
            "charges": [
                {"key": key, **_pick(entry, "id", "amount", "currency", "status")}
                for key, entry in self.charges.items()
            ],
            "refunds": [
                {"key": key, **_pick(entry, "id", "charge_id", "amount", "status")}
                for key, entry in self.refunds.items()
            ],
        }


def _pick(entry: Entry, *names: str) -> dict[str, Any]:
    return {**{name: entry.body[name] for name in names}, "at": entry.at.isoformat()}


def _now() -> datetime:
    return datetime.now(UTC)


async def _stall(delay_ms: int) -> None:
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)


def create_gateway_app(name: str = "simulator", ledger_file: Path | None = None) -> FastAPI:
    """Build one simulated gateway; each app has its own ledger (kept in `ledger_file`, and
    read back from it, when given)."""
    app = FastAPI(
        title=f"Payment gateway simulator ({name})",
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    ledger = Ledger()
    if ledger_file is not None:
        ledger.load(ledger_file)
    app.state.ledger = ledger

    async def _faulted(request: Request) -> JSONResponse | None:
        ledger.requests += 1
        ledger.last_traceparent = request.headers.get("traceparent")
        faults = ledger.faults
        if faults.down:
            return JSONResponse({"error": "gateway_down"}, status_code=REFUSED)
        await _stall(faults.latency_ms)
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

    @app.get("/ledger")
    async def get_ledger() -> dict[str, Any]:
        # No fault applies: the ledger is what the gateway holds, asked for by an auditor.
        return ledger.view(name)

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
                status = 201 if approved else 402
                ledger.record("charge", idempotency_key, Entry(status, result, _now()))
            entry = ledger.charges[idempotency_key]
        faults = ledger.faults
        await _stall(faults.post_charge_delay_ms)
        if faults.charge_answer_status is not None:  # charged, then failed to say so
            return JSONResponse({"error": "gateway_error"}, status_code=faults.charge_answer_status)
        return JSONResponse(entry.body, status_code=entry.status_code)

    @app.get("/charges/by-key/{idempotency_key}")
    async def find_charge(request: Request, idempotency_key: str) -> Response:
        if (failure := await _faulted(request)) is not None:
            return failure
        faults = ledger.faults
        await _stall(faults.lookup_delay_ms)
        if faults.lookup_status is not None:
            return JSONResponse({"error": "lookup_failed"}, status_code=faults.lookup_status)
        if idempotency_key not in ledger.charges:
            return JSONResponse({"error": "not_found"}, status_code=404)
        entry = ledger.charges[idempotency_key]
        return JSONResponse(entry.body, status_code=200 if entry.status_code == 201 else 402)

    @app.post("/refunds")
    async def refund(
        request: Request, body: RefundIn, idempotency_key: Annotated[str, Header(max_length=128)]
    ) -> Response:
        if (failure := await _faulted(request)) is not None:
            return failure
        faults = ledger.faults
        if faults.refund_status is not None:  # refused: nothing recorded
            return JSONResponse({"error": "refund_failed"}, status_code=faults.refund_status)
        async with ledger.lock:
            if idempotency_key not in ledger.refunds:
                known = any(
                    c.body["id"] == body.charge_id and c.body["status"] == "succeeded"
                    for c in ledger.charges.values()
                )
                result = {
                    "id": f"re_{uuid.uuid4().hex[:24]}",
                    "charge_id": body.charge_id,
                    "status": "succeeded" if known else "failed",
                    "amount": body.amount,
                    "code": None if known else "unknown_charge",
                }
                status = 201 if known else 404
                ledger.record("refund", idempotency_key, Entry(status, result, _now()))
            entry = ledger.refunds[idempotency_key]
        await _stall(faults.refund_delay_ms)  # refunded, then answered late
        return JSONResponse(entry.body, status_code=entry.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal"}, status_code=500)

    return app
