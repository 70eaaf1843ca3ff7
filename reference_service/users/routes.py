"""Registration, login and the caller's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from reference_service.auth import UnauthorizedError, issue_token
from reference_service.deps import CurrentUser, RuntimeDep, SessionDep
from reference_service.errors import ConflictError
from reference_service.users import service
from reference_service.users.schemas import Token, TokenRequest, UserCreate, UserRead, UserUpdate

router = APIRouter(tags=["users"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    operation_id="users-register",
    responses={
        429: {"description": "Too many failed attempts (taken emails, logins) from this address"},
        503: {"description": "Too many passwords being hashed at once; see Retry-After"},
    },
)
async def register(
    body: UserCreate, request: Request, session: SessionDep, runtime: RuntimeDep
) -> UserRead:
    """Create a customer account; a taken email counts against the address's failure limit."""
    client = _client(request)
    await runtime.limits.check_registration(client)
    try:
        user = await service.register(
            session, runtime.passwords, body.email, body.password, body.full_name
        )
    except ConflictError:
        await runtime.limits.registration_conflicted(client)
        raise
    return UserRead.model_validate(user)


@router.post(
    "/auth/token",
    response_model=Token,
    operation_id="users-login",
    responses={
        429: {"description": "Too many failed logins (this address, or this address and email)"},
        503: {"description": "Too many passwords being checked at once; see Retry-After"},
    },
)
async def login(
    body: TokenRequest, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Token:
    """Exchange email and password for a bearer token."""
    client = _client(request)
    await runtime.limits.check_login(client, body.email)
    try:
        user = await service.authenticate(session, runtime.passwords, body.email, body.password)
    except UnauthorizedError:
        await runtime.limits.login_failed(client, body.email)
        raise
    token = issue_token(runtime.settings, user.id, user.role)
    return Token(access_token=token, expires_in=runtime.settings.jwt_ttl_seconds)


@router.get("/users/me", response_model=UserRead, operation_id="users-get-me")
async def read_me(user: CurrentUser, session: SessionDep) -> UserRead:
    """The caller's profile."""
    return UserRead.model_validate(await service.get_profile(session, user.id))


@router.patch("/users/me", response_model=UserRead, operation_id="users-update-me")
async def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> UserRead:
    """Change the caller's name; the role cannot be changed here."""
    return UserRead.model_validate(await service.update_profile(session, user.id, body.full_name))
