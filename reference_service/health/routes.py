"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reference_service import __version__
from reference_service.deps import RuntimeDep

router = APIRouter(prefix="/health", tags=["health"])

READY_TIMEOUT_S = 2.0


@router.get("/live", operation_id="health-live")
async def live() -> dict[str, str]:
    """200 whenever the process runs."""
    return {"status": "ok", "version": __version__}


@router.get(
    "/ready",
    operation_id="health-ready",
    responses={503: {"description": "A required dependency is unreachable"}},
)
async def ready(runtime: RuntimeDep) -> JSONResponse:
    """200 when the database answers (the cache may be degraded); 503 while it does not."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (SQLAlchemyError, OSError, TimeoutError):
        checks["database"] = "unreachable"
    checks["cache"] = "ok" if await runtime.cache.healthy() else "degraded"
    is_ready = checks["database"] == "ok"
    runtime.metrics.ready.set(1 if is_ready else 0)
    return JSONResponse(
        {"status": "ready" if is_ready else "unready", "version": __version__, "checks": checks},
        status_code=200 if is_ready else 503,
    )
