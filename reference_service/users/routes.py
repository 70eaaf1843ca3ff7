"""Registration, login and the caller's profile."""

from __future__ import annotations

from fastapi import APIRouter, status

from reference_service.auth import issue_token
from reference_service.deps import CurrentUser, RuntimeDep, SessionDep
from reference_service.users import service
from reference_service.users.schemas import Token, TokenRequest, UserCreate, UserRead, UserUpdate

router = APIRouter(tags=["users"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    operation_id="users-register",
)
async def register(body: UserCreate, session: SessionDep) -> UserRead:
    """Create a customer account."""
    user = await service.register(session, body.email, body.password, body.full_name)
    return UserRead.model_validate(user)


@router.post("/auth/token", response_model=Token, operation_id="users-login")
async def login(body: TokenRequest, session: SessionDep, runtime: RuntimeDep) -> Token:
    """Exchange email and password for a bearer token."""
    user = await service.authenticate(session, body.email, body.password)
    token = issue_token(runtime.settings, user.id, user.role)
    return Token(access_token=token, expires_in=runtime.settings.jwt_ttl_seconds)


@router.get("/users/me", response_model=UserRead, operation_id="users-get-me")
async def read_me(user: CurrentUser) -> UserRead:
    """The caller's profile."""
    return UserRead.model_validate(user)


@router.patch("/users/me", response_model=UserRead, operation_id="users-update-me")
async def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> UserRead:
    """Change the caller's name; the role cannot be changed here."""
    return UserRead.model_validate(await service.update_profile(session, user.id, body.full_name))
