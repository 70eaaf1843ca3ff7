"""FastAPI dependencies as `Annotated` aliases: settings, session, current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.auth import UnauthorizedError
from reference_service.errors import DomainError
from reference_service.runtime import Runtime
from reference_service.users.models import Role
from reference_service.users.principals import Principal


async def get_runtime(request: Request) -> Runtime:
    """The app's wiring (settings, sessions, gateway, ...), built by create_app.

    Async although it awaits nothing: FastAPI runs a plain `def` dependency in a thread.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    reads_only = request.method in {"GET", "HEAD"}
    sessions = runtime.read_sessions if reads_only else runtime.sessions
    async with sessions() as session:
        try:
            await runtime.slow_query(session)
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


_bearer = HTTPBearer(auto_error=False)


async def get_current_user(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of a valid bearer token; 401 otherwise.

    No session of the request's: the verdict on a token is kept per process
    (users/principals.py), so a route opens the one transaction it works in, and flows that
    run their own (checkout) hold nothing while they work.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError()
    principal = await runtime.principals.of(credentials.credentials)
    # For logs written while handling the request, and (via request state) its access log.
    user_id = str(principal.id)
    structlog.contextvars.bind_contextvars(user_id=user_id)
    request.state.user_id = user_id
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> Principal:
    """The current user, if an admin; 403 otherwise."""
    if user.role != Role.ADMIN:
        raise DomainError("forbidden", 403, "This action needs the admin role.", title="Forbidden")
    return user


AdminUser = Annotated[Principal, Depends(get_admin_user)]
