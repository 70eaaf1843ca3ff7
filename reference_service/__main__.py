"""Command line: migrate | seed | serve | gateway."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import MutableMapping

from pydantic import ValidationError

from reference_service.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        messages = "; ".join(str(err["msg"]) for err in exc.errors())
        sys.exit(f"reference_service: invalid settings: {messages}")


def migrate(settings: Settings) -> None:
    """Bring the schema to the latest revision."""
    from reference_service.migrate import upgrade

    upgrade(settings)
    print("migrated", flush=True)


def seed(settings: Settings) -> None:
    """Load the deterministic seed data (idempotent)."""
    from reference_service import db
    from reference_service.seed import seed as run_seed

    if not settings.admin_password:
        sys.exit(
            "reference_service: seed needs ADMIN_PASSWORD (the development password is "
            "seeded only with APP_ENV=development)"
        )

    async def _run() -> dict[str, int]:
        engine = db.create_engine(settings)
        try:
            async with db.create_sessionmaker(engine).begin() as session:
                return await run_seed(session, settings)
        finally:
            await engine.dispose()

    print(f"seeded {asyncio.run(_run())}", flush=True)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the API: uvicorn for one worker, gunicorn with uvicorn workers for several; both
    through the protocol that bounds request heads (reference_service.server)."""
    if workers <= 1:
        import uvicorn

        from reference_service.observability import configure_logging
        from reference_service.server import limited_protocol

        configure_logging()
        uvicorn.run(
            "reference_service.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            http=limited_protocol(settings),
        )
        return
    # Several workers on one SQLite file wait for each other's write lock: in aiosqlite's
    # thread, never on the loop's (reference_service/sqlite.py).
    # The workers' environment is a copy: the calling process's own stays as it was.
    env = dict(os.environ)
    if settings.is_sqlite:
        env["SQLITE_INLINE"] = "false"
    # Several workers share one /metrics view through prometheus-client's multiprocess files.
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="reference-metrics-")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "reference_service.app:create_app()",
        # Without it a worker logs through structlog's dev renderer: rich tracebacks that
        # block the event loop for seconds each, so a database outage freezes every worker.
        "--config",
        "python:reference_service.gunicorn_conf",
        "--worker-class",
        "reference_service.server.LimitedUvicornWorker",
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--graceful-timeout",
        "10",
        "--timeout",
        "30",
    ]
    os.execve(sys.executable, argv, env)  # noqa: S606 - our own interpreter and fixed arguments


def share_jwt_secret(environ: MutableMapping[str, str]) -> None:
    """Without JWT_SECRET, generate one now, before any fork: every worker reads the same."""
    if not environ.get("JWT_SECRET"):
        environ["JWT_SECRET"] = secrets.token_urlsafe(32)


def gateway(host: str, port: int, name: str, ledger_file: str | None = None) -> None:
    """Serve the payment gateway simulator as its own process."""
    from pathlib import Path

    import uvicorn

    from reference_service.payments.simulator import create_gateway_app

    app = create_gateway_app(name, Path(ledger_file) if ledger_file else None)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m reference_service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed", help="load deterministic seed data (idempotent)")
    serve_cmd = commands.add_parser("serve", help="serve the API")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument("--prepare", action="store_true", help="migrate and seed before serving")
    gateway_cmd = commands.add_parser("gateway", help="serve the payment gateway simulator")
    gateway_cmd.add_argument("--host", default="127.0.0.1")
    gateway_cmd.add_argument("--port", type=int, default=8100)
    gateway_cmd.add_argument("--name", default="simulator")
    gateway_cmd.add_argument(
        "--ledger-file", help="keep the ledger in this file (JSON lines), read back on start"
    )
    args = parser.parse_args(argv)

    if args.command == "gateway":
        gateway(args.host, args.port, args.name, args.ledger_file)
        return
    settings = _settings()
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "seed":
        seed(settings)
    else:
        # After the settings are checked (production must set its own), before any fork.
        share_jwt_secret(os.environ)
        if args.prepare:
            migrate(settings)
            seed(settings)
        serve(settings, args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
