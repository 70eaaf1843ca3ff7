"""A shared/exclusive lock across pytest-xdist workers, for scenarios that flip global flags.

Ordinary scenarios hold it shared; `@exclusive` scenarios (feature flags that change what
every checkout does) hold it alone. A writer first takes the gate, so readers queue behind a
waiting writer instead of starving it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ScenarioLock:
    """Readers-writer lock on two files in a folder every worker shares."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._gate = folder / "assay-exclusive.gate"
        self._lock = folder / "assay-exclusive.lock"

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Held by ordinary scenarios; many at once."""
        with self._gate.open("a") as gate, self._lock.open("a") as lock:
            fcntl.flock(gate, fcntl.LOCK_EX)
            try:
                fcntl.flock(lock, fcntl.LOCK_SH)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held by a scenario that changes service-wide state; nobody else runs meanwhile."""
        with self._gate.open("a") as gate, self._lock.open("a") as lock:
            fcntl.flock(gate, fcntl.LOCK_EX)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
