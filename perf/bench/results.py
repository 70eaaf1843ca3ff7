"""The benchmark's results file: its rows with their targets, the machine, the commit, the date.

`python -m perf.bench` writes it (default perf/bench/results.json, committed); the README's
performance table is rendered from it (perf.bench.readme), never typed by hand.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

from assay.run import run_git
from perf.bench.load import Level
from perf.bench.targets import goal_for

SCHEMA = 1
RESULTS = Path(__file__).resolve().parent / "results.json"
ROOT = Path(__file__).resolve().parents[2]


class Kind(StrEnum):
    """What traffic a row is: the README says which figures are which."""

    CEILING = "framework ceiling"
    ANONYMOUS = "anonymous reads"
    AUTHENTICATED = "authenticated reads"
    CHECKOUT = "checkout (authenticated writes)"
    JOURNEY_MIX = "journey mix (Locust, the perf suite's shapes)"
    GENERATOR = "load generator"


@dataclass(frozen=True)
class Record:
    """One row: what was measured, on which backend, and its figures."""

    key: str  # stable: perf.bench.targets keys the row's target on it
    measurement: str
    backend: str
    kind: Kind
    figures: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        """The row as the results file holds it, its target and verdict beside it."""
        goal = goal_for(self.key, self.backend)
        return {
            "key": self.key,
            "measurement": self.measurement,
            "backend": self.backend,
            "kind": self.kind.value,
            "figures": self.figures,
            "target": goal.as_json() if goal else None,
            "meets_target": goal.met(self.figures) if goal else None,
            "note": self.note,
        }


def level_record(
    key: str,
    measurement: str,
    backend: str,
    kind: Kind,
    level: Level | None,
    ceiling_rps: float | None = None,
    note: str = "",
) -> Record:
    """A row from one load level (None: no level fitted), with its share of the ceiling."""
    if level is None:
        return Record(key, measurement, backend, kind, {}, note or "no level fits")
    figures: dict[str, Any] = {
        "rps": level.rps,
        "p95_ms": level.p95_ms,
        "p50_ms": level.p50_ms,
        "connections": level.connections,
        "errors": level.errors,
        "requests": level.requests,
    }
    if ceiling_rps:
        figures["share_of_ceiling_pct"] = round(100 * level.rps / ceiling_rps, 1)
    if level.cpu_ms_per_request is not None:
        figures["cpu_ms_per_request"] = level.cpu_ms_per_request
    return Record(key, measurement, backend, kind, figures, note)


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, Python and platform of this machine."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        model = found[1].strip() if found else model
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def commit() -> dict[str, Any]:
    """The short sha measured, and whether tracked files had uncommitted changes (and which)."""
    sha = run_git(ROOT, "rev-parse", "--short", "HEAD")
    status = run_git(ROOT, "status", "--porcelain", "--untracked-files=no")
    changed = sorted(line[3:] for line in (status or "").splitlines() if line.strip())
    return {
        "sha": sha.strip() if sha else None,
        "dirty": bool(changed) if status is not None else None,
        "changed": changed,
    }


def redact(value: Any) -> Any:
    """A URL (or `--option=URL`) with its password replaced: the options are committed."""
    if not isinstance(value, str) or "://" not in value:
        return value
    if value.startswith("--") and "=" in value:
        option, url = value.split("=", 1)
        return f"{option}={redact(url)}"
    parts = urlsplit(value)
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _plain(value: Any) -> Any:
    """A path as the repository's own (relative) when it is inside it: the file is committed."""
    if not isinstance(value, Path):
        return value
    resolved = value.resolve()
    return str(resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else value)


def document(
    records: Sequence[Record],
    options: Mapping[str, Any],
    argv: Sequence[str],
    *,
    when: datetime | None = None,
    host: Mapping[str, Any] | None = None,
    git: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The results file's contents (machine, commit and date read here unless given)."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return {
        "schema": SCHEMA,
        "date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join(["python", "-m", "perf.bench", *(redact(a) for a in argv)]),
        "options": {name: redact(_plain(value)) for name, value in options.items()},
        "machine": dict(host if host is not None else machine()),
        "commit": dict(git if git is not None else commit()),
        "rows": [record.as_json() for record in records],
    }


def write(path: Path, contents: Mapping[str, Any]) -> Path:
    """Write the results file (stable key order, a newline at the end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contents, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read(path: Path = RESULTS) -> dict[str, Any]:
    """A results file's contents."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}")
    return data
