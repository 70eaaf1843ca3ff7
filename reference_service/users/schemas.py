"""User I/O. Roles are never accepted from clients."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from reference_service.validation import Clean, Name

Password = Annotated[str, StringConstraints(min_length=8, max_length=128), Clean]
# email-validator refuses special-use domains (RFC 6761); the contract says so too.
EMAIL_PATTERN = (
    r"^(?!.*\.(?:arpa|invalid|local|localhost|onion|test)$)[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
)
Email = Annotated[
    EmailStr,
    StringConstraints(max_length=320),
    Clean,
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
]


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

    email: Annotated[str, StringConstraints(min_length=1, max_length=320), Clean]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128), Clean]


class Token(BaseModel):
    """An access token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type
    expires_in: int = Field(description="Seconds until the token expires")
