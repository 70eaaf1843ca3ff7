"""Structured JSON logs with request ids; never emails, passwords, tokens or card data."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from fastapi import Request
from structlog.typing import Processor

PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
]


def configure_logging(level: str = "INFO", stream: TextIO = sys.stdout) -> None:
    """JSON lines, with context variables (request_id, trace_id, user_id) merged in."""
    logging.basicConfig(format="%(message)s", stream=stream, level=level)
    structlog.configure(
        processors=[*PROCESSORS, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(stream),
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
