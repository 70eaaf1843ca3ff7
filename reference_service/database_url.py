"""DATABASE_URL spellings: the forms people are handed, mapped to the async drivers we ship."""

from __future__ import annotations

ACCEPTED_FORMS = "sqlite:///PATH, postgresql://..., postgres://... (or +aiosqlite/+psycopg)"

# Scheme as written -> scheme with the async driver this service uses.
_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def normalise_database_url(url: str) -> str:
    """The URL with its async driver, or ValueError naming the accepted forms."""
    scheme, sep, rest = url.partition("://")
    driver = _SCHEMES.get(scheme.strip().lower()) if sep else None
    if driver is None or not rest:
        shown = scheme if sep else "no scheme"
        raise ValueError(f"DATABASE_URL ({shown}) must be one of: {ACCEPTED_FORMS}")
    return f"{driver}://{rest}"
