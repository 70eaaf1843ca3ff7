"""Forged bearer tokens for the token-rejection scenarios."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from assay.target import JwtSettings


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(sub: str, settings: JwtSettings | None, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": "customer",
        "iss": settings.issuer if settings else "reference-service",
        "aud": settings.audience if settings else "reference-service-api",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
    }
    claims.update(overrides)
    return claims


def unsigned(sub: str, settings: JwtSettings | None) -> str:
    """`alg: none` with an admin role and no signature."""
    header = _b64({"alg": "none", "typ": "JWT"})
    return f"{header}.{_b64(_claims(sub, settings, role='admin'))}."


def tampered(real_token: str) -> str:
    """A real token whose payload now claims the admin role; the signature is the original."""
    header, payload, signature = real_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return f"{header}.{_b64(claims)}.{signature}"


def signed(sub: str, settings: JwtSettings, **overrides: Any) -> str:
    """A token signed with the target's own secret, with some claims overridden."""
    return jwt.encode(_claims(sub, settings, **overrides), settings.secret, algorithm="HS256")


def forge(kind: str, sub: str, real_token: str, settings: JwtSettings | None) -> str | None:
    """The token of a named kind; None when forging it needs the secret and it is unknown."""
    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    needs_secret: dict[str, dict[str, Any]] = {
        "expired": {"exp": past, "iat": past - 600, "nbf": past - 600},
        "wrong audience": {"aud": "someone-else"},
        "wrong issuer": {"iss": "someone-else"},
        "valid": {},
    }
    if kind in needs_secret:
        return None if settings is None else signed(sub, settings, **needs_secret[kind])
    if kind == "unsigned":
        return unsigned(sub, settings)
    if kind == "tampered":
        return tampered(real_token)
    if kind == "garbage":
        return "not-a-jwt"
    if kind == "wrong key":
        return jwt.encode(_claims(sub, settings), "x" * 40, algorithm="HS256")
    raise ValueError(f"no token kind {kind!r}")
