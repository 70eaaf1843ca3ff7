"""User I/O. Roles are never accepted from clients."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from reference_service.validation import Name, _clean

Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(_clean)]
Email = Annotated[EmailStr, StringConstraints(max_length=320), AfterValidator(_clean)]


class UserCreate(BaseModel):
    """Registration; unknown fields such as `role` are rejected."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: Name


class UserUpdate(BaseModel):
    """Profile changes a user may make to themselves."""

    model_config = ConfigDict(extra="forbid")

    full_name: Name


class UserRead(BaseModel):
    """A user as clients see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: str


class TokenRequest(BaseModel):
    """Login."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(min_length=1, max_length=320), AfterValidator(_clean)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=128), AfterValidator(_clean)
    ]


class Token(BaseModel):
    """An access token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type
    expires_in: int = Field(description="Seconds until the token expires")
