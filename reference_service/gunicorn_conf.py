"""gunicorn settings for `serve --workers N`: each worker logs JSON lines like a single server."""

from __future__ import annotations

from typing import Any

from reference_service.observability import configure_logging


def post_worker_init(worker: Any) -> None:
    """gunicorn hook: configure structured logging in the freshly forked worker."""
    configure_logging()
