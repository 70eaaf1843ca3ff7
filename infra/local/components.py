"""How each part of the local stack starts and stops: PostgreSQL, Redis, gateways, service."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg

from infra.local.processes import (
    ProcessRecord,
    alive,
    ensure_ours,
    spawn,
    stop_group,
    wait_until,
)

PG_SUPERUSER = "assay"
PG_DATABASE = "reference"
# An upper bound, not a wait: on the busy shared machine (load 10 on two cores) gunicorn took
# over 60 s to boot two workers against PostgreSQL.
START_TIMEOUT_S = 180.0
SETUP_TIMEOUT_S = 120.0
PG_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sock}'
max_connections = 120
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
"""


class MissingBinaryError(Exception):
    """A binary the stack needs is not installed; the message says which package has it."""


def pg_bin_dir() -> Path:
    """Where initdb and pg_ctl are: `ASSAY_PG_BIN`, the newest /usr/lib/postgresql/*/bin, PATH."""
    configured = os.environ.get("ASSAY_PG_BIN")
    candidates = [Path(configured)] if configured else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(
        (Path(v) for v in versions), key=lambda p: int(p.parent.name), reverse=True
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise MissingBinaryError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
        "or on PATH: install the Debian package `postgresql` (e.g. apt-get install -y "
        "postgresql-15), or point ASSAY_PG_BIN at a directory holding them"
    )


def redis_binary() -> str:
    """The redis-server binary."""
    found = shutil.which("redis-server")
    if found is None:
        raise MissingBinaryError(
            "redis-server not found on PATH: install the Debian package `redis-server` "
            "(apt-get install -y redis-server)"
        )
    return found


def pg_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as `ASSAY_PG_USER` (default nobody) then."""
    if os.geteuid() != 0:
        return None
    return os.environ.get("ASSAY_PG_USER", "nobody")


def _run(argv: list[str], env: dict[str, str], log: Path, user: str | None = None) -> None:
    with log.open("ab") as out:
        done = subprocess.run(  # noqa: S603 - fixed argv built by the stack
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=SETUP_TIMEOUT_S,
            check=False,
            start_new_session=True,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{Path(argv[0]).name} exited {done.returncode}:\n{tail}")


# PostgreSQL -------------------------------------------------------------------------------


def pg_init(root: Path, port: int, env: dict[str, str]) -> Path:
    """initdb a disposable cluster under `root/pg`, owned by the unprivileged user."""
    base = root / "pg"
    (base / "sock").mkdir(parents=True)
    user = pg_user()
    if user is not None:
        for path in (base, base / "sock"):
            shutil.chown(path, user=user)
    data = base / "data"
    initdb = str(pg_bin_dir() / "initdb")
    argv = [initdb, "-D", str(data), "-U", PG_SUPERUSER, "-A", "trust", "-E", "UTF8"]
    _run([*argv, "--no-locale", "--no-sync", "--no-instructions"], env, base / "initdb.log", user)
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(PG_CONF.format(port=port, sock=base / "sock"))
    return data


def pg_start(root: Path, env: dict[str, str]) -> ProcessRecord:
    """Start the cluster with pg_ctl and wait until it accepts connections."""
    base = root / "pg"
    pg_ctl = str(pg_bin_dir() / "pg_ctl")
    argv = [pg_ctl, "-D", str(base / "data"), "-l", str(base / "postgres.log"), "-w", "-t", "30"]
    _run([*argv, "start"], env, base / "pg_ctl.log", pg_user())
    pid = int((base / "data" / "postmaster.pid").read_text().splitlines()[0])
    return ProcessRecord.of(pid)


def pg_stop(
    root: Path, record: ProcessRecord, stack_id: str, mode: str, env: dict[str, str]
) -> None:
    """pg_ctl stop in `mode` (smart, fast or immediate); the postmaster must be the stack's."""
    if mode not in {"smart", "fast", "immediate"}:
        raise ValueError(f"unknown shutdown mode {mode!r}")
    ensure_ours(record, stack_id)
    base = root / "pg"
    pg_ctl = str(pg_bin_dir() / "pg_ctl")
    argv = [pg_ctl, "-D", str(base / "data"), "-m", mode, "-w", "-t", "30", "stop"]
    _run(argv, env, base / "pg_ctl.log", pg_user())
    wait_until(lambda: not alive(record.pid), 30, "postmaster exit")


def pg_create_database(url: str) -> None:
    """Create the service's database in the fresh cluster."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def pg_kill(record: ProcessRecord, stack_id: str) -> None:
    """Last resort at teardown: the postmaster's whole group."""
    stop_group(record, stack_id, timeout_s=5.0)


# Redis ------------------------------------------------------------------------------------


def redis_start(root: Path, port: int, env: dict[str, str]) -> ProcessRecord:
    """Start a redis-server with no persistence and wait for PING."""
    base = root / "redis"
    base.mkdir(exist_ok=True)
    argv = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base)]
    argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
    process = spawn(argv, env, base / "redis.log", cwd=base)
    url = f"redis://127.0.0.1:{port}/0"
    _wait_redis(url, process)
    return ProcessRecord.of(process.pid, by_cwd=True)


def _wait_redis(url: str, process: subprocess.Popen[bytes]) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited {process.returncode}")
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, START_TIMEOUT_S, "redis PING")
    finally:
        client.close()


def redis_stop(record: ProcessRecord, stack_id: str) -> None:
    """SIGTERM the stack's redis-server and wait for it to exit."""
    ensure_ours(record, stack_id)
    os.kill(record.pid, signal.SIGTERM)
    wait_until(lambda: not alive(record.pid), 15, "redis-server exit")


# HTTP processes: gateways and the service -------------------------------------------------


def python_module(*args: str) -> list[str]:
    """Our interpreter running the reference service's command line."""
    return [sys.executable, "-m", "reference_service", *args]


def wait_http(url: str, process: subprocess.Popen[bytes] | None, what: str) -> None:
    """Poll `url` until it answers 200 (fail early if `process` dies)."""

    def up() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited {process.returncode} before it answered")
        try:
            return httpx.get(url, timeout=2.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    wait_until(up, START_TIMEOUT_S, f"{what} at {url}")


def gateway_start(root: Path, name: str, port: int, env: dict[str, str]) -> ProcessRecord:
    """Start one payment gateway simulator as its own process; its ledger lives in a file of
    the stack's, so a gateway killed and started again still holds what it charged."""
    argv = python_module("gateway", "--host", "127.0.0.1", "--port", str(port), "--name", name)
    argv += ["--ledger-file", str(root / f"gateway-{name}-ledger.jsonl")]
    process = spawn(argv, env, root / f"gateway-{name}.log")
    wait_http(f"http://127.0.0.1:{port}/health", process, f"gateway {name}")
    return ProcessRecord.of(process.pid)


def service_prepare(root: Path, env: dict[str, str]) -> None:
    """Migrate and seed the service's database."""
    for command in ("migrate", "seed"):
        _run(python_module(command), env, root / "service-setup.log")


def service_start(root: Path, port: int, workers: int, env: dict[str, str]) -> ProcessRecord:
    """Start the service under gunicorn with `workers` uvicorn workers; wait until ready."""
    metrics = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(metrics, ignore_errors=True)  # stale files of a previous master mislead
    metrics.mkdir(parents=True)
    argv = python_module("serve", "--host", "127.0.0.1", "--port", str(port))
    process = spawn([*argv, "--workers", str(workers)], env, root / "service.log")
    wait_http(f"http://127.0.0.1:{port}/health/ready", process, "reference service")
    return ProcessRecord.of(process.pid)
