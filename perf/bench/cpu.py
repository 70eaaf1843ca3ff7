"""CPU time a server's process tree spent (gunicorn master and workers), read through psutil."""

from __future__ import annotations

from collections.abc import Mapping

import psutil

# pid -> (create time, user + system CPU seconds); the create time tells a reused pid apart.
Snapshot = dict[int, tuple[float, float]]


def snapshot(pid: int) -> Snapshot:
    """CPU seconds so far of `pid` and every process below it."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    taken: Snapshot = {}
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                taken[process.pid] = (process.create_time(), times.user + times.system)
        except psutil.NoSuchProcess:
            continue  # ended between the listing and the reading
    return taken


def spent(before: Mapping[int, tuple[float, float]], after: Snapshot) -> float:
    """CPU seconds the tree spent between two snapshots.

    A process started in between counts from zero; one that ended in between is lost (its
    time is no longer readable), so a worker restarted mid-measurement undercounts.
    """
    total = 0.0
    for pid, (created, seconds) in after.items():
        earlier = before.get(pid)
        total += seconds - earlier[1] if earlier and earlier[0] == created else seconds
    return total
