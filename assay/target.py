"""The Target: the one service every suite runs against, remote or started by Assay itself."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

# Defaults the reference service documents for its development admin and its JWTs.
DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "admin-password-change-me"  # noqa: S105 - the service's public dev default
DEFAULT_JWT_ISSUER = "reference-service"
DEFAULT_JWT_AUDIENCE = "reference-service-api"

READY_TIMEOUT_S = 60.0
LEDGERS_ENV = "ASSAY_GATEWAY_LEDGERS"
# The managed target's gateway simulators, by the role the service gives each.
GATEWAY_SETTINGS = {"primary": "PAYMENT_GATEWAY_URL", "fallback": "PAYMENT_FALLBACK_URL"}
STOP_TIMEOUT_S = 10.0
SETUP_TIMEOUT_S = 120.0


class TargetError(Exception):
    """The target cannot be started, reached or described."""


class TargetKind(StrEnum):
    """Who owns the target's lifecycle."""

    MANAGED = "managed"  # started and stopped by Assay
    REMOTE = "remote"  # deployed by someone else, reached by URL


@dataclass(frozen=True)
class Credentials:
    """An email and password pair (the target's admin account)."""

    email: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class JwtSettings:
    """What it takes to forge tokens the target would accept; only known for some targets."""

    secret: str = field(repr=False)
    issuer: str = DEFAULT_JWT_ISSUER
    audience: str = DEFAULT_JWT_AUDIENCE


@dataclass(frozen=True)
class Target:
    """A base URL, how to act as admin there, and what version answered."""

    base_url: str
    kind: TargetKind
    version: str | None = None
    admin: Credentials | None = None
    jwt: JwtSettings | None = None
    # Gateway name -> base URL of a gateway that answers `GET /ledger` (the money oracle).
    ledgers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def describe(self) -> dict[str, Any]:
        """The target as recorded in run.json (never any secret)."""
        return {
            "url": self.base_url,
            "kind": str(self.kind),
            "version": self.version,
            "admin_email": self.admin.email if self.admin else None,
            "jwt_secret_known": self.jwt is not None,
            "ledgers": dict(self.ledgers),
        }

    def env(self) -> dict[str, str]:
        """Environment variables that hand this target to a subprocess (a suite's test runner)."""
        env = {"ASSAY_TARGET_URL": self.base_url, "ASSAY_TARGET_KIND": str(self.kind)}
        if self.admin is not None:
            env["ASSAY_ADMIN_EMAIL"] = self.admin.email
            env["ASSAY_ADMIN_PASSWORD"] = self.admin.password
        if self.jwt is not None:
            env["ASSAY_JWT_SECRET"] = self.jwt.secret
            env["ASSAY_JWT_ISSUER"] = self.jwt.issuer
            env["ASSAY_JWT_AUDIENCE"] = self.jwt.audience
        if self.ledgers:
            env[LEDGERS_ENV] = format_ledgers(self.ledgers)
        return env


def parse_ledgers(text: str) -> dict[str, str]:
    """`primary=http://h:8100,fallback=http://h:8101` -> {name: base URL}; TargetError if bad."""
    ledgers: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        name, sep, url = (part.strip() for part in pair.partition("="))
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise TargetError(f"{LEDGERS_ENV} takes NAME=http(s)://URL pairs, got {pair!r}")
        if name in ledgers:
            raise TargetError(f"{LEDGERS_ENV} names gateway {name!r} twice")
        ledgers[name] = url.rstrip("/")
    return ledgers


def format_ledgers(ledgers: Mapping[str, str]) -> str:
    """The `ASSAY_GATEWAY_LEDGERS` value for `ledgers`."""
    return ",".join(f"{name}={url}" for name, url in ledgers.items())


def target_from_env(environ: Mapping[str, str], url: str | None = None) -> Target | None:
    """A remote Target from `url` or `ASSAY_TARGET_URL` (+ admin, JWT variables); None if unset."""
    base_url = (url or environ.get("ASSAY_TARGET_URL") or "").strip().rstrip("/")
    if not base_url:
        return None
    if not base_url.startswith(("http://", "https://")):
        raise TargetError(f"target URL must start with http:// or https://, got {base_url!r}")
    email = environ.get("ASSAY_ADMIN_EMAIL")
    password = environ.get("ASSAY_ADMIN_PASSWORD")
    secret = environ.get("ASSAY_JWT_SECRET")
    kind = TargetKind(environ.get("ASSAY_TARGET_KIND", TargetKind.REMOTE))
    return Target(
        base_url=base_url,
        kind=kind if url is None else TargetKind.REMOTE,
        admin=Credentials(email, password) if email and password else None,
        jwt=JwtSettings(
            secret=secret,
            issuer=environ.get("ASSAY_JWT_ISSUER", DEFAULT_JWT_ISSUER),
            audience=environ.get("ASSAY_JWT_AUDIENCE", DEFAULT_JWT_AUDIENCE),
        )
        if secret
        else None,
        ledgers=parse_ledgers(environ.get(LEDGERS_ENV, "")),
    )


def probe_version(base_url: str, timeout_s: float = 5.0) -> str | None:
    """The version the target reports on `/health/live` (None if it does not say)."""
    try:
        response = httpx.get(f"{base_url}/health/live", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise TargetError(f"{base_url}/health/live unreachable: {exc}") from exc
    if response.status_code != httpx.codes.OK:
        raise TargetError(f"{base_url}/health/live answered {response.status_code}")
    try:
        version = response.json().get("version")
    except ValueError:
        return None
    return str(version) if version is not None else None


def wait_ready(
    base_url: str,
    timeout_s: float = READY_TIMEOUT_S,
    process: subprocess.Popen[bytes] | None = None,
    path: str = "/health/ready",
) -> None:
    """Poll `path` until it answers 200, the deadline passes, or `process` exits."""

    def ready() -> bool:
        if process is not None and process.poll() is not None:
            raise TargetError(
                f"{base_url}: process exited with code {process.returncode} before it was ready"
            )
        try:
            return httpx.get(f"{base_url}{path}", timeout=2.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    poller = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(0.1),
        retry=retry_if_result(lambda ok: not ok),
    )
    try:
        poller(ready)
    except RetryError as exc:
        raise TargetError(f"{base_url}{path} not 200 within {timeout_s:.0f} s") from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _service(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "reference_service", *args]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _setup(args: list[str], env: dict[str, str], log: IO[str], log_path: Path) -> None:
    log.write(f"$ {' '.join(args)}\n")
    log.flush()
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter running the reference service
            _service(args),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=SETUP_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TargetError(f"reference_service {args[0]} timed out") from exc
    if result.returncode != 0:
        raise TargetError(
            f"reference_service {args[0]} exited {result.returncode}:\n{_tail(log_path)}"
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


HARNESS_CEILING = "1000000/minute"


@contextmanager
def managed_target(
    log_dir: Path | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
    workers: int = 1,
    service_env: Mapping[str, str] | None = None,
) -> Iterator[Target]:
    """Start the reference service on a free loopback port with a fresh SQLite file, and its two
    gateway simulators as their own processes (their ledgers are the target's); stop them all.

    `service_env` adds service settings (e.g. rate limits) on top of the defaults.
    """
    admin = Credentials(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    jwt = JwtSettings(secret=secrets.token_urlsafe(32))
    with tempfile.TemporaryDirectory(prefix="assay-target-") as tmp:
        database = Path(tmp) / "reference.db"
        logs = log_dir or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / "service.log"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "ADMIN_EMAIL": admin.email,
            "ADMIN_PASSWORD": admin.password,
            "JWT_SECRET": jwt.secret,
            "JWT_ISSUER": jwt.issuer,
            "JWT_AUDIENCE": jwt.audience,
            "PYTHONUNBUFFERED": "1",
            **(service_env or {}),
        }
        # The managed target must never inherit a remote target's or another database's settings.
        for name in ("ASSAY_TARGET_URL", "REDIS_URL", *GATEWAY_SETTINGS.values()):
            env.pop(name, None)
        # Every request of the harness comes from one loopback address and a few users, so the
        # per-client and per-user ceilings (failed logins per address included: every suite's
        # wrong passwords and taken emails add up) would throttle the harness itself; the
        # failed-login limit per email stays as shipped (the acceptance suite checks it).
        env.setdefault("RATE_LIMIT_PER_CLIENT", HARNESS_CEILING)
        env.setdefault("RATE_LIMIT_ORDERS_PER_USER", HARNESS_CEILING)
        env.setdefault("RATE_LIMIT_LOGIN_FAILURES_PER_CLIENT", HARNESS_CEILING)
        # The harness injects faults on its own target (chaos, perf, acceptance): chosen
        # explicitly, since the service allows it by default only with APP_ENV=development.
        env.setdefault("FAULT_INJECTION", "true")
        with ExitStack() as running, log_path.open("a", encoding="utf-8") as log:
            # The gateways start while the database is migrated and seeded.
            gateways = {
                name: running.enter_context(_gateway(name, logs, ready_timeout_s))
                for name in GATEWAY_SETTINGS
            }
            for name, setting in GATEWAY_SETTINGS.items():
                env[setting] = gateways[name].url
            _setup(["migrate"], env, log, log_path)
            _setup(["seed"], env, log, log_path)
            for gateway in gateways.values():
                gateway.wait()
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
            if workers > 1:
                serve += ["--workers", str(workers)]
            log.write(f"$ {' '.join(serve)}\n")
            log.flush()
            process = subprocess.Popen(  # noqa: S603 - our own interpreter running the reference service
                _service(serve), env=env, stdout=log, stderr=subprocess.STDOUT
            )
            running.callback(_stop, process)
            try:
                wait_ready(base_url, ready_timeout_s, process)
            except TargetError as exc:
                raise TargetError(f"{exc}\n--- service.log (tail) ---\n{_tail(log_path)}") from exc
            yield Target(
                base_url=base_url,
                kind=TargetKind.MANAGED,
                version=probe_version(base_url),
                admin=admin,
                jwt=jwt,
                ledgers={name: gateway.url for name, gateway in gateways.items()},
            )


@dataclass(frozen=True)
class _Gateway:
    """A gateway simulator process of the managed target."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    timeout_s: float

    def wait(self) -> None:
        """Until its `/health` answers (TargetError with its log's tail if it never does)."""
        try:
            wait_ready(self.url, self.timeout_s, self.process, path="/health")
        except TargetError as exc:
            raise TargetError(f"gateway {exc}\n--- log (tail) ---\n{_tail(self.log_path)}") from exc


@contextmanager
def _gateway(name: str, logs: Path, timeout_s: float) -> Iterator[_Gateway]:
    port = free_port()
    log_path = logs / f"gateway-{name}.log"
    args = ["gateway", "--host", "127.0.0.1", "--port", str(port), "--name", name]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(args)}\n")
        log.flush()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running the simulator
            _service(args), env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield _Gateway(f"http://127.0.0.1:{port}", process, log_path, timeout_s)
        finally:
            _stop(process)


@contextmanager
def open_target(
    url: str | None = None,
    environ: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    service_env: Mapping[str, str] | None = None,
) -> Iterator[Target]:
    """The run's Target: `url` or `ASSAY_TARGET_URL` (must be ready), else a managed one
    (started with `service_env` on top of its defaults)."""
    env = os.environ if environ is None else environ
    remote = target_from_env(env, url)
    if remote is None:
        # A busy shared machine may need longer than the default to start three processes.
        ready = env.get("ASSAY_READY_TIMEOUT_S")
        with managed_target(
            log_dir=log_dir,
            service_env=service_env,
            ready_timeout_s=float(ready) if ready else READY_TIMEOUT_S,
        ) as managed:
            yield managed
        return
    wait_ready(remote.base_url, timeout_s=float(env.get("ASSAY_READY_TIMEOUT_S", "30")))
    yield Target(
        base_url=remote.base_url,
        kind=remote.kind,
        version=probe_version(remote.base_url),
        admin=remote.admin,
        jwt=remote.jwt,
        ledgers=remote.ledgers,
    )
