"""Registration, login and profile rules."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.auth import PasswordHashing, UnauthorizedError
from reference_service.errors import ConflictError
from reference_service.users.models import Role, User


def normalise_email(email: str) -> str:
    """One spelling per mailbox."""
    return email.strip().lower()


async def register(
    session: AsyncSession,
    passwords: PasswordHashing,
    email: str,
    password: str,
    full_name: str,
    role: Role = Role.CUSTOMER,
) -> User:
    """Create a user; 409 if the email is taken."""
    user = User(
        email=normalise_email(email),
        password_hash=await passwords.hash(password),
        full_name=full_name,
        role=role,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError("email-taken", "An account with this email already exists.") from exc
    return user


async def authenticate(
    session: AsyncSession, passwords: PasswordHashing, email: str, password: str
) -> User:
    """The user these credentials belong to; the same 401 for unknown user and bad password."""
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if not await passwords.verify(user.password_hash if user else None, password) or user is None:
        raise UnauthorizedError("Invalid email or password.")
    return user


async def get_profile(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The caller's own row; 401 if it is gone (the token outlived its user)."""
    user = await session.get(User, user_id)
    if user is None:
        raise UnauthorizedError("The bearer token's user no longer exists.")
    return user


async def update_profile(session: AsyncSession, user_id: uuid.UUID, full_name: str) -> User:
    """Change what a user may change about themselves (never the role)."""
    user = await get_profile(session, user_id)
    user.full_name = full_name
    await session.flush()
    return user
