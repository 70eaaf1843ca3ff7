"""The stack's descriptor (`stack.json`): what runs where, read and written under a lock.

Urls, ports, pids (with start times), data dirs and the service's settings; chaos actions
load it, act on the processes through it (only those the stack started), and save new pids.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import components as parts
from infra.local.processes import (
    STACK_ID_ENV,
    ProcessRecord,
    is_ours,
    stop_group,
)

DESCRIPTOR_ENV = "ASSAY_STACK_FILE"
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
