"""Structured JSON logs with request ids; never emails, passwords, tokens or card data."""

from __future__ import annotations

import logging
import sys
from typing import BinaryIO

import orjson
import structlog
from fastapi import Request
from structlog.typing import Processor

from reference_service.redaction import RedactingFormatter, redact_event

PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    # Last: the rendered traceback and exception text are redacted too.
    redact_event,
]


def configure_logging(level: str = "INFO", stream: BinaryIO | None = None) -> None:
    """JSON lines on stdout (or `stream`), with request_id, trace_id and user_id merged in.

    Rendered by orjson straight to bytes: one line per request is written, so it is on the
    hot path of every request.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    logging.basicConfig(handlers=[handler], level=level)
    # httpx logs every gateway call at INFO as a plain-text line: not JSON, and one a request.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*PROCESSORS, structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        logger_factory=structlog.BytesLoggerFactory(stream or sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )


def log_unexpected(request: Request, exc: Exception) -> None:
    """Log an unhandled error with its traceback, server-side only."""
    structlog.get_logger("reference_service").error(
        "unhandled_error",
        method=request.method,
        path=request.url.path,
        error=type(exc).__name__,
        exc_info=exc,
    )
