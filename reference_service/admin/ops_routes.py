"""Admin operations: feature flags (audited) and the outbox's events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from reference_service.admin import audit
from reference_service.admin.schemas import EventPage, EventRead, FlagRead, FlagSet
from reference_service.deps import AdminUser, RuntimeDep, SessionDep
from reference_service.events.models import OutboxEvent

router = APIRouter(prefix="/admin", tags=["admin"])
log = structlog.get_logger("reference_service.flags")

FlagName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


@router.get("/flags", response_model=list[FlagRead], operation_id="admin-list-flags")
async def list_flags(_: AdminUser, session: SessionDep, runtime: RuntimeDep) -> list[FlagRead]:
    """Every feature flag with its live value."""
    return [FlagRead(**asdict(state)) for state in await runtime.flags.describe(session)]


@router.put("/flags/{name}", response_model=FlagRead, operation_id="admin-set-flag")
async def set_flag(
    name: FlagName, body: FlagSet, admin: AdminUser, session: SessionDep, runtime: RuntimeDep
) -> FlagRead:
    """Change a flag; audited with its value before and after."""
    before, after = await runtime.flags.set(session, name, body.value, str(admin.id))
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
