"""The local stack: bring it up on free ports, describe it in a JSON descriptor, tear it down.

The descriptor (`stack.json`) holds urls, ports, pids (with start times), data dirs and the
service's settings; chaos actions read it, act on the processes, and write back new pids.
Only processes and directories the stack itself created are ever signalled or removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from assay.target import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, free_port
from infra.local import components as parts
from infra.local.processes import (
    STACK_ID_ENV,
    ProcessRecord,
    is_ours,
    kill_stragglers,
    stop_group,
)

DESCRIPTOR_ENV = "ASSAY_STACK_FILE"
MARKER = ".assay-stack"
DEFAULT_WORKERS = 3
GATEWAYS = ("primary", "fallback")
# Settings of the service the stack never passes through from the caller's environment.
SERVICE_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "NATS_URL",
    "PAYMENT_GATEWAY_URL",
    "PAYMENT_FALLBACK_URL",
    "PROMETHEUS_MULTIPROC_DIR",
    "ASSAY_TARGET_URL",
    "TEST_DATABASE_URL",
    STACK_ID_ENV,
}


class StackError(Exception):
    """The stack cannot be brought up, found, or acted on."""


def default_descriptor_path(environ: Mapping[str, str] | None = None) -> Path:
    """`ASSAY_STACK_FILE`, else `runs/stack.json` under the current directory."""
    env = os.environ if environ is None else environ
    return Path(env.get(DESCRIPTOR_ENV) or "runs/stack.json").resolve()


@dataclass
class Component:
    """One part of the stack: where it listens and which process is it (None when stopped)."""

    name: str
    port: int
    url: str
    process: ProcessRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The component as written into the descriptor."""
        return {
            "port": self.port,
            "url": self.url,
            "pid": self.process.pid if self.process else None,
            "process": self.process.to_json() if self.process else None,
            **self.extra,
        }

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Component:
        """A component read back from the descriptor."""
        known = {"port", "url", "pid", "process"}
        process = data.get("process")
        return cls(
            name=name,
            port=int(data["port"]),
            url=str(data["url"]),
            process=ProcessRecord.from_json(process) if process else None,
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass
class Stack:
    """A provisioned stack as its descriptor describes it."""

    stack_id: str
    root: Path
    descriptor: Path
    components: dict[str, Component]
    service_env: dict[str, str]
    workers: int
    admin: dict[str, str]
    created_at: float = field(default_factory=time.time)

    # Reading and writing the descriptor ------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The descriptor's content."""
        return {
            "stack_id": self.stack_id,
            "root": str(self.root),
            "created_at": self.created_at,
            "workers": self.workers,
            "service_url": self.components["service"].url,
            "database_url": self.components["postgres"].url,
            "redis_url": self.components["redis"].url,
            "ledgers": self.ledgers,
            "admin": self.admin,
            "components": {name: c.to_json() for name, c in self.components.items()},
            "service_env": self.service_env,
            "files": {
                "events": str(self.root / "events.jsonl"),
                "acknowledged_orders": str(self.root / "acknowledged-orders.jsonl"),
                "baseline_stock": str(self.root / "baseline-stock.json"),
            },
        }

    def save(self) -> None:
        """Write the descriptor atomically (0600: it holds the dev admin's password)."""
        self.descriptor.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.descriptor):
            fd, tmp = tempfile.mkstemp(prefix=".stack.", dir=self.descriptor.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, indent=2)
            os.replace(tmp, self.descriptor)

    @property
    def service_url(self) -> str:
        """Base URL of the reference service."""
        return self.components["service"].url

    @property
    def ledgers(self) -> dict[str, str]:
        """Gateway name -> base URL of its simulator (each answers `GET /ledger`)."""
        prefix = "gateway-"
        return {
            name.removeprefix(prefix): component.url
            for name, component in self.components.items()
            if name.startswith(prefix)
        }

    @property
    def database_url(self) -> str:
        """libpq URL of the stack's database (for psycopg)."""
        return self.components["postgres"].url

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a process the stack starts (marked with the stack id)."""
        base = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV}
        return {**base, **(extra or {}), STACK_ID_ENV: self.stack_id, "PYTHONUNBUFFERED": "1"}

    def owns(self, name: str) -> bool:
        """Whether the component's recorded process runs and is the stack's own."""
        process = self.components[name].process
        return process is not None and is_ours(process, self.stack_id)

    # Starting and stopping components -----------------------------------------------------

    def start(self, name: str) -> None:
        """Start a stopped component on its recorded port; record its new process."""
        if self.owns(name):
            return
        component = self.components[name]
        env = self.env()
        if name == "postgres":
            component.process = parts.pg_start(self.root, env)
        elif name == "redis":
            component.process = parts.redis_start(self.root, component.port, env)
        elif name.startswith("gateway-"):
            gateway = name.removeprefix("gateway-")
            component.process = parts.gateway_start(self.root, gateway, component.port, env)
        elif name == "service":
            service_env = self.env(self.service_env)
            component.process = parts.service_start(
                self.root, component.port, self.workers, service_env
            )
        else:
            raise StackError(f"no component {name!r}")
        self.save()

    def stop(self, name: str, mode: str = "fast") -> None:
        """Stop a component (PostgreSQL in pg_ctl `mode`); a stopped one stays stopped."""
        component = self.components[name]
        if component.process is None or not is_ours(component.process, self.stack_id):
            component.process = None
            self.save()
            return
        if name == "postgres":
            parts.pg_stop(self.root, component.process, self.stack_id, mode, self.env())
        elif name == "redis":
            parts.redis_stop(component.process, self.stack_id)
        else:
            stop_group(component.process, self.stack_id)
        component.process = None
        self.save()

    def record_event(self, event: str, **details: Any) -> None:
        """Append a timestamped event (what chaos did, when) to the stack's events file."""
        line = json.dumps({"at": time.time(), "event": event, **details})
        with (self.root / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(f"{path}.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_stack(descriptor: Path | None = None) -> Stack:
    """The stack a descriptor describes (StackError if there is none)."""
    path = descriptor or default_descriptor_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StackError(f"no stack descriptor at {path}: run `assay stack up` first") from exc
    except ValueError as exc:
        raise StackError(f"{path} is not a stack descriptor: {exc}") from exc
    return Stack(
        stack_id=str(data["stack_id"]),
        root=Path(data["root"]),
        descriptor=path,
        components={
            name: Component.from_json(name, raw) for name, raw in data["components"].items()
        },
        service_env=dict(data["service_env"]),
        workers=int(data["workers"]),
        admin=dict(data["admin"]),
        created_at=float(data["created_at"]),
    )


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
