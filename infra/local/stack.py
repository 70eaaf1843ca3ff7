"""The local stack: bring it up on free ports, describe it in a JSON descriptor, tear it down.

The descriptor (`stack.json`) holds urls, ports, pids (with start times), data dirs and the
service's settings; chaos actions read it, act on the processes, and write back new pids.
Only processes and directories the stack itself created are ever signalled or removed.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg

from assay.target import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, free_port
from infra.local import components as parts
from infra.local.descriptor import (
    Component,
    Stack,
    StackError,
    load_stack,
)
from infra.local.processes import (
    kill_stragglers,
    stop_group,
)

MARKER = ".assay-stack"
DEFAULT_WORKERS = 3
GATEWAYS = ("primary", "fallback")


def _new_stack(descriptor: Path | None, workers: int, settings: Mapping[str, str]) -> Stack:
    root = Path(tempfile.mkdtemp(prefix="assay-stack-"))
    root.chmod(0o755)  # the unprivileged PostgreSQL user must reach root/pg
    stack_id = secrets.token_hex(8)
    (root / MARKER).write_text(stack_id, encoding="utf-8")
    ports = {name: free_port() for name in ("postgres", "redis", "service", *GATEWAYS)}
    db_url = f"postgresql://{parts.PG_SUPERUSER}@127.0.0.1:{ports['postgres']}/{parts.PG_DATABASE}"
    components = {
        "postgres": Component(
            "postgres",
            ports["postgres"],
            db_url,
            extra={"data_dir": str(root / "pg" / "data"), "user": parts.pg_user()},
        ),
        "redis": Component(
            "redis",
            ports["redis"],
            f"redis://127.0.0.1:{ports['redis']}/0",
            extra={"data_dir": str(root / "redis")},
        ),
        **{
            f"gateway-{name}": Component(
                f"gateway-{name}", ports[name], f"http://127.0.0.1:{ports[name]}"
            )
            for name in GATEWAYS
        },
        "service": Component("service", ports["service"], f"http://127.0.0.1:{ports['service']}"),
    }
    admin = {"email": DEFAULT_ADMIN_EMAIL, "password": DEFAULT_ADMIN_PASSWORD}
    service_env = {
        "DATABASE_URL": db_url.replace("postgresql://", "postgresql+psycopg://", 1),
        "REDIS_URL": components["redis"].url,
        "PAYMENT_GATEWAY_URL": components["gateway-primary"].url,
        "PAYMENT_FALLBACK_URL": components["gateway-fallback"].url,
        "PROMETHEUS_MULTIPROC_DIR": str(root / "metrics"),
        "ADMIN_EMAIL": admin["email"],
        "ADMIN_PASSWORD": admin["password"],
        "JWT_SECRET": secrets.token_urlsafe(32),
        # Chaos traffic comes from one address and a handful of users.
        "RATE_LIMIT_PER_CLIENT": "100000/minute",
        "RATE_LIMIT_ORDERS_PER_USER": "100000/minute",
        # The chaos stack exists to inject faults: chosen explicitly (ADR-016).
        "FAULT_INJECTION": "true",
        **settings,
    }
    path = descriptor or root / "stack.json"
    return Stack(stack_id, root, path.resolve(), components, service_env, workers, admin)


def _record_baseline(stack: Stack) -> None:
    # Stock conservation is judged against this: per product, stock plus units in live orders.
    with psycopg.connect(stack.database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT product_id, stock FROM inventory").fetchall()
    baseline = {str(product): int(stock) for product, stock in rows}
    (stack.root / "baseline-stock.json").write_text(json.dumps(baseline), encoding="utf-8")


def stack_up(
    descriptor: Path | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
    settings: Mapping[str, str] | None = None,
) -> Stack:
    """Provision everything on free ports; on any failure tear down what was started."""
    parts.pg_bin_dir()  # fail before creating anything when a binary is missing
    parts.redis_binary()
    if descriptor is not None and descriptor.exists():
        raise StackError(f"{descriptor} exists: `assay stack down` the stack it describes first")
    stack = _new_stack(descriptor, workers, settings or {})
    try:
        stack.save()
        parts.pg_init(stack.root, stack.components["postgres"].port, stack.env())
        stack.start("postgres")
        admin_url = stack.database_url.rsplit("/", 1)[0] + "/postgres"
        parts.pg_create_database(admin_url)
        stack.start("redis")
        for name in GATEWAYS:
            stack.start(f"gateway-{name}")
        parts.service_prepare(stack.root, stack.env(stack.service_env))
        _record_baseline(stack)
        stack.start("service")
    except BaseException as exc:
        stack_down(stack)
        if isinstance(exc, parts.MissingBinaryError | RuntimeError | TimeoutError | OSError):
            raise StackError(f"stack up failed: {exc}") from exc
        raise
    stack.record_event("stack_up")
    return stack


def stack_status(stack: Stack) -> dict[str, dict[str, Any]]:
    """Per component: url, pid and whether it runs (as the stack's own process)."""
    return {
        name: {"url": c.url, "pid": c.process.pid if c.process else None, "up": stack.owns(name)}
        for name, c in stack.components.items()
    }


def _keep_logs(stack: Stack, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    for log in [
        *stack.root.glob("*.log"),
        *stack.root.glob("*/*.log"),
        stack.root / "events.jsonl",
    ]:
        if log.is_file():
            shutil.copyfile(log, into / log.name)


def stack_down(stack: Stack, keep_logs: Path | None = None) -> list[str]:
    """Stop every component, kill stragglers carrying the stack id, remove the stack's dirs
    (copying its logs into `keep_logs` first, if given)."""
    notes: list[str] = []
    for name in ("service", "gateway-primary", "gateway-fallback", "redis", "postgres"):
        component = stack.components.get(name)
        if component is None or component.process is None:
            continue
        try:
            if name == "postgres" and stack.owns(name):
                parts.pg_stop(
                    stack.root, component.process, stack.stack_id, "immediate", stack.env()
                )
            else:
                stop_group(component.process, stack.stack_id, timeout_s=10.0)
        except (RuntimeError, TimeoutError, OSError) as exc:
            notes.append(f"{name}: {exc}")
            parts.pg_kill(component.process, stack.stack_id)
    stragglers = kill_stragglers(stack.stack_id)
    if keep_logs is not None:
        _keep_logs(stack, keep_logs)
    if stragglers:
        notes.append(f"killed stragglers {stragglers}")
    marker = stack.root / MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == stack.stack_id:
        shutil.rmtree(stack.root, ignore_errors=True)
    elif stack.root.exists():
        notes.append(f"left {stack.root}: it is not this stack's directory")
    if not stack.descriptor.is_relative_to(stack.root):
        stack.descriptor.unlink(missing_ok=True)
        Path(f"{stack.descriptor}.lock").unlink(missing_ok=True)
    return notes


@contextlib.contextmanager
def provisioned_stack(
    descriptor: Path | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
    settings: Mapping[str, str] | None = None,
    keep_logs: Path | None = None,
) -> Iterator[Stack]:
    """A stack for the duration of a block; torn down however the block ends."""
    stack = stack_up(descriptor, workers=workers, settings=settings)
    try:
        yield stack
    finally:
        current = load_stack(stack.descriptor) if stack.descriptor.exists() else stack
        stack_down(current, keep_logs=keep_logs)
