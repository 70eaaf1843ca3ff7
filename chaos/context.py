"""What an activity acts on, resolved from the experiment's configuration at call time.

Two modes: a provisioned local stack (`stack_file` names its descriptor; processes, the
database, the admin account and both payment gateways are all reachable), or a bare HTTP
target (`base_url`, admin credentials from `ASSAY_ADMIN_EMAIL` / `ASSAY_ADMIN_PASSWORD`, the
gateways from `gateway_ledgers` / `ASSAY_GATEWAY_LEDGERS` as `primary=URL,fallback=URL`)
where only HTTP activities work.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
from chaoslib.exceptions import ActivityFailed

from assay.target import LEDGERS_ENV, TargetError, parse_ledgers
from infra.local.descriptor import Stack, StackError, load_stack

Configuration = Mapping[str, Any] | None
P = ParamSpec("P")
R = TypeVar("R")
HTTP_TIMEOUT_S = 5.0
ADMIN_TOKEN_FILE = "admin-token.json"  # noqa: S105 - a file name


@dataclass(frozen=True)
class Context:
    """The target of one activity call."""

    base_url: str
    state_dir: Path
    stack: Stack | None
    gateways: Mapping[str, str] = field(default_factory=dict)  # name -> base URL

    def require_stack(self, what: str) -> Stack:
        """The provisioned stack, or ActivityFailed saying `what` needs one."""
        if self.stack is None:
            raise ActivityFailed(f"{what} needs the local provisioned stack (`stack_file`)")
        return self.stack

    def gateway_url(self, name: str) -> str:
        """Base URL of the payment gateway `name` (ActivityFailed if unknown; empty refused)."""
        if name not in self.gateways:
            known = ", ".join(sorted(self.gateways)) or "none configured"
            raise ActivityFailed(f"no gateway {name!r} (empty refused); known: {known}")
        return self.gateways[name]

    @property
    def events_file(self) -> Path:
        """Where actions record what they did and when."""
        return self.state_dir / "events.jsonl"

    @property
    def acknowledged_file(self) -> Path:
        """Ids of orders the service acknowledged with a 2xx, one JSON line each."""
        return self.state_dir / "acknowledged-orders.jsonl"

    def record_event(self, event: str, **details: Any) -> None:
        """Append a timestamped event line."""
        line = json.dumps({"at": time.time(), "event": event, **details})
        with self.events_file.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def event_log(self, *names: str) -> list[dict[str, Any]]:
        """Every recorded event called one of `names`, in order, with its details."""
        if not self.events_file.exists():
            return []
        lines = self.events_file.read_text(encoding="utf-8").splitlines()
        return [entry for entry in map(json.loads, lines) if entry.get("event") in names]

    def events(self, name: str) -> list[float]:
        """Times (epoch seconds) at which `name` was recorded."""
        return [float(entry["at"]) for entry in self.event_log(name)]

    def admin_credentials(self) -> tuple[str, str]:
        """The admin account: the stack's, else from the environment."""
        if self.stack is not None:
            return self.stack.admin["email"], self.stack.admin["password"]
        email = os.environ.get("ASSAY_ADMIN_EMAIL")
        password = os.environ.get("ASSAY_ADMIN_PASSWORD")
        if not email or not password:
            raise ActivityFailed("admin credentials unknown: set ASSAY_ADMIN_EMAIL/PASSWORD")
        return email, password

    def admin_headers(self, client: httpx.Client) -> dict[str, str]:
        """Bearer header for the admin (token cached in the state dir while it is valid)."""
        cache = self.state_dir / ADMIN_TOKEN_FILE
        if cache.exists():
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("base_url") == self.base_url and data["expires_at"] > time.time() + 60:
                return {"Authorization": f"Bearer {data['token']}"}
        email, password = self.admin_credentials()
        response = client.post(
            f"{self.base_url}/auth/token", json={"email": email, "password": password}
        )
        if response.status_code != httpx.codes.OK:
            raise ActivityFailed(f"admin login answered {response.status_code}")
        body = response.json()
        cache.write_text(
            json.dumps(
                {
                    "base_url": self.base_url,
                    "token": body["access_token"],
                    "expires_at": time.time() + int(body.get("expires_in", 600)),
                }
            ),
            encoding="utf-8",
        )
        cache.chmod(0o600)
        return {"Authorization": f"Bearer {body['access_token']}"}


def _value(configuration: Configuration, key: str, env: str) -> str:
    configured = (configuration or {}).get(key)
    return str(configured or os.environ.get(env) or "")


def parse_gateways(raw: str) -> dict[str, str]:
    """`primary=URL,fallback=URL` -> {name: URL}; ActivityFailed on a malformed pair."""
    try:
        return parse_ledgers(raw)
    except TargetError as exc:
        raise ActivityFailed(str(exc)) from exc


def resolve(configuration: Configuration) -> Context:
    """The Context for this call: the stack if a descriptor is configured, else the base URL."""
    stack_file = _value(configuration, "stack_file", "ASSAY_STACK_FILE")
    stack: Stack | None = None
    if stack_file:
        try:
            stack = load_stack(Path(stack_file))
        except StackError as exc:
            raise ActivityFailed(str(exc)) from exc
    base_url = stack.service_url if stack else _value(configuration, "base_url", "ASSAY_TARGET_URL")
    if not base_url:
        raise ActivityFailed("no target: configure `stack_file` or `base_url`")
    state = _value(configuration, "state_dir", "ASSAY_CHAOS_STATE_DIR")
    if stack is not None and not state:
        state_dir = stack.root
    else:
        state_dir = Path(state or Path(tempfile.gettempdir()) / "assay-chaos-state")
        state_dir.mkdir(parents=True, exist_ok=True)
    raw_gateways = _value(configuration, "gateway_ledgers", LEDGERS_ENV)
    gateways = stack.ledgers if stack else parse_gateways(raw_gateways)
    return Context(
        base_url=base_url.rstrip("/"), state_dir=state_dir, stack=stack, gateways=gateways
    )


def http_client() -> httpx.Client:
    """A short-timeout client for one activity."""
    return httpx.Client(timeout=HTTP_TIMEOUT_S)


def boundary(function: Callable[P, R]) -> Callable[P, R]:
    """The chaos activity boundary: any unexpected error becomes ActivityFailed with its reason."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ActivityFailed:
            raise
        except Exception as exc:
            raise ActivityFailed(f"{function.__name__}: {type(exc).__name__}: {exc}") from exc

    return wrapper
