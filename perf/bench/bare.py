"""The framework ceiling: a bare FastAPI JSON endpoint, served like the reference service."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    """One GET endpoint answering a small JSON object; nothing else."""
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app
