"""Admin operations: feature flags (audited) and the outbox's events."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.admin import audit
from reference_service.admin.schemas import (
    EventHead,
    EventPage,
    EventRead,
    FlagRead,
    flag_set_model,
)
from reference_service.deps import AdminUser, RuntimeDep, SessionDep
from reference_service.errors import PROBLEM_MEDIA_TYPE, DomainError
from reference_service.events.models import OutboxEvent
from reference_service.flags import FlagDefinition
from reference_service.runtime import Runtime
from reference_service.users.models import User

router = APIRouter(prefix="/admin", tags=["admin"])
log = structlog.get_logger("reference_service.flags")


@router.get("/flags", response_model=list[FlagRead], operation_id="admin-list-flags")
async def list_flags(_: AdminUser, session: SessionDep, runtime: RuntimeDep) -> list[FlagRead]:
    """Every feature flag with its live value."""
    return [FlagRead(**asdict(state)) for state in await runtime.flags.describe(session)]


def flag_router(definitions: dict[str, FlagDefinition]) -> APIRouter:
    """PUT /admin/flags/{name}, one operation per defined flag.

    One templated operation could not say that `payment_primary_down` takes a bool and
    `payment_latency_ms` a whole number of milliseconds; one operation per flag, each with its
    own body schema, lets the contract say exactly what the service accepts. An undefined
    name is no route at all (404).
    """
    flags = APIRouter(prefix="/admin", tags=["admin"])
    for name, definition in sorted(definitions.items()):
        flags.add_api_route(
            f"/flags/{name}",
            _setter(name, flag_set_model(name, definition)),
            methods=["PUT"],
            response_model=FlagRead,
            operation_id=f"admin-set-flag-{name.replace('_', '-')}",
            summary=f"Set {name}",
            description=f"{definition.description} Audited with its value before and after."
            + (FAULT_NOTE if definition.fault else ""),
            responses=FAULT_RESPONSES if definition.fault else None,
        )
    return flags


# The document is the same wherever the service runs: a fault flag always documents the 403
# that a service with fault injection off answers.
FAULT_NOTE = " A fault flag: only where fault injection is on (FAULT_INJECTION)."
FAULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "The caller lacks the admin role, or fault injection is off on this "
        "service (fault-injection-disabled; set FAULT_INJECTION=true to allow it)",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


def _refuse_disabled_fault(name: str, runtime: Runtime) -> None:
    """403 before anything is read or written: a refusal, like any other, changes nothing
    and leaves no audit entry (the audit log records changes made)."""
    if not runtime.flags.settable(name):
        raise DomainError(
            "fault-injection-disabled",
            403,
            f"Flag {name} injects faults, and fault injection is off here (FAULT_INJECTION).",
            title="Fault injection disabled",
        )


def _setter(name: str, body_model: type[BaseModel]) -> Callable[..., Awaitable[FlagRead]]:
    async def set_flag(
        body: BaseModel, admin: User, session: AsyncSession, runtime: Runtime
    ) -> FlagRead:
        _refuse_disabled_fault(name, runtime)
        value = body.model_dump()["value"]
        before, after = await runtime.flags.set(session, name, value, str(admin.id))
        await audit.append(
            session,
            runtime.settings.audit_key,
            str(admin.id),
            "flag.set",
            f"flag:{name}",
            {"value": before},
            {"value": after},
        )
        log.info("flag_changed", flag=name, before=before, after=after)
        states = {state.name: state for state in await runtime.flags.describe(session)}
        return FlagRead(**asdict(states[name]))

    # The body's type is this flag's model, known only now: FastAPI reads it from the signature.
    keyword = inspect.Parameter.KEYWORD_ONLY
    set_flag.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", keyword, annotation=body_model),
            inspect.Parameter("admin", keyword, annotation=AdminUser),
            inspect.Parameter("session", keyword, annotation=SessionDep),
            inspect.Parameter("runtime", keyword, annotation=RuntimeDep),
        ],
        return_annotation=FlagRead,
    )
    return set_flag


@router.get("/events/head", response_model=EventHead, operation_id="admin-events-head")
async def events_head(_: AdminUser, session: SessionDep) -> EventHead:
    """The newest event's sequence (0 when there is none), to read only what comes after."""
    newest = await session.scalar(select(func.max(OutboxEvent.seq)))
    return EventHead(sequence=int(newest or 0))


@router.get("/events", response_model=EventPage, operation_id="admin-list-events")
async def list_events(
    _: AdminUser,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """Outbox events after a sequence number, oldest first."""
    rows = list(
        await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.seq > after)
            .order_by(OutboxEvent.seq)
            .limit(limit)
        )
    )
    items = [EventRead.model_validate(row) for row in rows]
    return EventPage(items=items, next_after=items[-1].seq if len(items) == limit else None)
