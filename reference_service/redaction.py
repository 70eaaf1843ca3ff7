"""Secrets out of the logs: emails, bearer and JWT tokens, payment tokens, password hashes.

Applied to every field of every structlog event (exception text and tracebacks included) and
to every line the standard library's logging writes, so a failing query's parameters or an
exception message never carries a customer's data to the log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from structlog.typing import EventDict, WrappedLogger

REDACTED = "[redacted]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Password hashes first: a hash contains characters the other patterns would split on.
    re.compile(
        r"\$(?:argon2(?:id|i|d)|2[abxy]?|pbkdf2[-_a-z0-9]*|scrypt)\$[A-Za-z0-9$=,./+_-]+", re.I
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I),
    re.compile(r"\btok_[A-Za-z0-9_]+"),  # payment tokens
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # email addresses
)


def redact_text(text: str) -> str:
    """`text` with every secret it contains replaced by `[redacted]`."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    return value


def redact_event(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: redact every field; runs after exceptions are rendered to text."""
    return {key: _redact(value) for key, value in event_dict.items()}


class RedactingFormatter(logging.Formatter):
    """A standard-library formatter whose output (message and traceback) is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, secrets removed."""
        return redact_text(super().format(record))
