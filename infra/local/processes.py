"""Processes the stack starts, and the proof that a pid is still one of them.

Every process the stack starts carries `ASSAY_STACK_ID=<id>` in its environment and is
recorded with its pid and start time. Before signalling a pid the stack checks both, so a
recycled pid, or a process someone else started (the machine's own PostgreSQL or Redis),
is never touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

STACK_ID_ENV = "ASSAY_STACK_ID"
POLL_S = 0.05


class ForeignProcessError(Exception):
    """The pid does not belong to this stack; the stack refuses to touch it."""


@dataclass(frozen=True)
class ProcessRecord:
    """A started process: pid, when it started (to detect pid reuse), its process group.

    `cwd` is set for programs that overwrite their environment block with their process
    title (redis-server does): their working directory, inside the stack's own temporary
    directory, then marks them as the stack's instead of `ASSAY_STACK_ID`.
    """

    pid: int
    create_time: float
    pgid: int
    cwd: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as stored in the descriptor."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        """A record read back from the descriptor."""
        cwd = data.get("cwd")
        return cls(int(data["pid"]), float(data["create_time"]), int(data["pgid"]), cwd)

    @classmethod
    def of(cls, pid: int, *, by_cwd: bool = False) -> ProcessRecord:
        """Record a live pid (marked by its working directory when `by_cwd`)."""
        proc = psutil.Process(pid)
        return cls(pid, proc.create_time(), os.getpgid(pid), proc.cwd() if by_cwd else None)


def _reap(pid: int) -> None:
    # A child of this process that exited stays a zombie (and "alive") until waited for.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int) -> bool:
    """Whether the pid runs (zombies count as gone)."""
    _reap(pid)
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def carries_stack_id(proc: psutil.Process, stack_id: str) -> bool:
    """Whether a process was started by the stack with this id (its environment says so)."""
    try:
        return proc.environ().get(STACK_ID_ENV) == stack_id
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def is_ours(record: ProcessRecord, stack_id: str) -> bool:
    """True when the recorded pid still is the process the stack started."""
    if not alive(record.pid):
        return False
    try:
        proc = psutil.Process(record.pid)
        same = abs(proc.create_time() - record.create_time) < 0.5
        if same and record.cwd is not None:
            return proc.cwd() == record.cwd
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return same and carries_stack_id(proc, stack_id)


def ensure_ours(record: ProcessRecord, stack_id: str) -> None:
    """Raise ForeignProcessError unless the pid is alive and the stack's own."""
    if not is_ours(record, stack_id):
        raise ForeignProcessError(
            f"refusing to signal pid {record.pid}: it is not a process this stack started "
            f"(stack {stack_id}); it exited, or its pid was reused"
        )


def spawn(
    argv: list[str],
    env: Mapping[str, str],
    log: Path,
    *,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so its group can be stopped), output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - fixed argv built by the stack
            argv,
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
        )


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    """Poll `predicate()` until true; TimeoutError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(POLL_S)
    raise TimeoutError(f"{what} not within {timeout_s:.0f} s")


def signal_ours(record: ProcessRecord, stack_id: str, sig: signal.Signals) -> None:
    """Send `sig` to one of the stack's processes (refuses any other pid)."""
    ensure_ours(record, stack_id)
    os.kill(record.pid, sig)


def stop_group(record: ProcessRecord, stack_id: str, timeout_s: float = 10.0) -> None:
    """SIGTERM the process and its group, SIGKILL what is left after `timeout_s`."""
    if not is_ours(record, stack_id):
        return
    members = [p for p in group_members(record.pgid) if carries_stack_id(p, stack_id)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in [psutil.Process(record.pid), *members]:
            try:
                proc.send_signal(sig)
            except psutil.NoSuchProcess:
                continue
        try:
            wait_until(
                lambda: not alive(record.pid) and not any(alive(p.pid) for p in members),
                timeout_s,
                f"pid {record.pid} exit",
            )
            return
        except TimeoutError:
            continue


def group_members(pgid: int) -> list[psutil.Process]:
    """Processes of a process group."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                found.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return found


def stack_processes(stack_id: str) -> Iterator[psutil.Process]:
    """Every live process that carries this stack's id (the teardown's safety net)."""
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid != me and carries_stack_id(proc, stack_id) and alive(proc.pid):
            yield proc


def kill_stragglers(stack_id: str, timeout_s: float = 5.0) -> list[int]:
    """SIGKILL every process still carrying the stack's id; returns their pids."""
    pids = []
    for proc in stack_processes(stack_id):
        try:
            proc.kill()
            pids.append(proc.pid)
        except psutil.NoSuchProcess:
            continue
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: not any(alive(pid) for pid in pids), timeout_s, "stragglers' exit")
    return pids
