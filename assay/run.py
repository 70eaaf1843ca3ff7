"""The Run: one directory `runs/<run_id>/` with run.json and a subfolder per suite."""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assay.catalog.model import CATALOG_DIR
from assay.record import TIMINGS_JSON, CiTimings, LateTimings, RunTimings
from assay.summary import Summary, Verdict, utcnow
from assay.target import Target

RUN_JSON = "run.json"
# A generated id is a UTC timestamp and 6 hex digits (new_run_id); one chosen by CI names its
# job (gh-123-1, perf-123-1). Either is one path segment: it can never leave the runs folder.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIST = "assay"
_DIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RunError(Exception):
    """A run directory cannot be created, found or updated."""


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id: UTC timestamp plus 6 random hex digits."""
    moment = now or utcnow()
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def runs_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where runs live: `ASSAY_RUNS_DIR`, else `./runs`."""
    env = os.environ if environ is None else environ
    return Path(env.get("ASSAY_RUNS_DIR") or "runs").resolve()


def run_git(root: Path, *args: str) -> str | None:
    """`git -C root ARGS`'s output, unstripped; None outside git or when git fails."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed git invocation
            ["git", "-C", str(root), *args],  # noqa: S607 - git from PATH, like any developer
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_commit(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The checkout's commit and whether it has uncommitted changes (None outside git)."""

    def git(*args: str) -> str | None:
        out = run_git(root, *args)
        return out.strip() if out is not None else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(status) if status is not None else None,
    }


def package_versions(dist: str = PROJECT_DIST) -> dict[str, str]:
    """Installed versions of the project and everything it declares (dev extras included)."""
    versions: dict[str, str] = {}
    try:
        versions[dist] = metadata.version(dist)
        declared = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return versions
    for spec in declared:
        name = _DIST_NAME.match(spec)
        if name is None:
            continue
        try:
            versions[name[0]] = metadata.version(name[0])
        except metadata.PackageNotFoundError:
            continue  # an optional extra that is not installed here
    return dict(sorted(versions.items()))


def environment() -> dict[str, Any]:
    """The machine and interpreter a run happened on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "packages": package_versions(),
    }


def provenance(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Who made the run: the CI run and its actor (GitHub Actions, other CIs), else user@host."""
    env = os.environ if environ is None else environ
    host = socket.gethostname()
    run_id = env.get("GITHUB_RUN_ID")
    if run_id:
        repo = env.get("GITHUB_REPOSITORY")
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return {
            "ci": "github-actions",
            "ci_run_id": f"{run_id}/{env.get('GITHUB_RUN_ATTEMPT', '1')}",
            "ci_run_url": f"{server}/{repo}/actions/runs/{run_id}" if repo else None,
            "workflow": env.get("GITHUB_WORKFLOW"),
            "ref": env.get("GITHUB_REF"),
            "actor": env.get("GITHUB_ACTOR"),
            "host": host,
        }
    if env.get("CI"):
        job = env.get("CI_JOB_ID") or env.get("BUILD_ID") or env.get("BUILD_NUMBER")
        return {
            "ci": env.get("CI_NAME") or ("gitlab-ci" if env.get("GITLAB_CI") else "ci"),
            "ci_run_id": job,
            "ci_run_url": env.get("CI_JOB_URL") or env.get("BUILD_URL"),
            "actor": env.get("GITLAB_USER_LOGIN") or env.get("BUILD_USER") or _user(),
            "host": host,
        }
    return {"ci": None, "ci_run_id": None, "actor": _user(), "host": host}


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None  # no login name (e.g. a container user without a passwd entry)


def snapshot_catalog(directory: Path, source: Path = CATALOG_DIR) -> Path:
    """Copy the catalog into the run, so a later rebuild maps results as this run did."""
    folder = directory / "catalog"
    folder.mkdir(exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        shutil.copyfile(path, folder / path.name)
    return folder


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Run:
    """A run directory; suites write under `suite_dir(name)`, the run records their verdicts."""

    run_id: str
    directory: Path

    @property
    def run_json(self) -> Path:
        """Path of this run's run.json."""
        return self.directory / RUN_JSON

    @classmethod
    def create(cls, base: Path | None = None, run_id: str | None = None) -> Run:
        """Make a new run directory with an initial run.json."""
        ident = run_id or new_run_id()
        if not RUN_ID_PATTERN.match(ident):
            raise RunError(
                f"run id {ident!r} is not like 20261126T080000Z-1a2b3c or gh-123-1: up to 100"
                " letters, digits, '.', '_' and '-', starting with a letter or digit"
            )
        directory = (base or runs_dir()) / ident
        try:
            directory.mkdir(parents=True, exist_ok=False)
        except FileExistsError as exc:
            raise RunError(f"run {ident} already exists in {directory.parent}") from exc
        run = cls(ident, directory)
        snapshot_catalog(directory)
        _atomic_write_json(
            run.run_json,
            {
                "run_id": ident,
                "started_at": utcnow().isoformat(),
                "finished_at": None,
                "git": git_commit(),
                "target": None,
                "environment": environment(),
                "provenance": provenance(),
                "suites": {},
            },
        )
        return run

    @classmethod
    def resume(cls, run_id: str, base: Path | None = None) -> Run:
        """Open an existing run so later suites add to it."""
        directory = (base or runs_dir()) / run_id
        if not (directory / RUN_JSON).is_file():
            raise RunError(f"no run {run_id} in {directory.parent} (no {RUN_JSON})")
        return cls(run_id, directory)

    @classmethod
    def open(
        cls,
        run_id: str | None = None,
        base: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Run:
        """Resume `run_id` (or `ASSAY_RUN_ID`) when given, else create a new run."""
        env = os.environ if environ is None else environ
        ident = run_id or env.get("ASSAY_RUN_ID")
        folder = base or runs_dir(env)
        if ident and (folder / ident / RUN_JSON).is_file():
            return cls.resume(ident, folder)
        return cls.create(folder, ident)

    def read(self) -> dict[str, Any]:
        """The current contents of run.json."""
        data: dict[str, Any] = json.loads(self.run_json.read_text(encoding="utf-8"))
        return data

    @contextmanager
    def _locked(self, name: str = RUN_JSON) -> Iterator[dict[str, Any]]:
        # Suites may finish in parallel processes: serialise read-modify-write of run.json
        # (and of timings.json, which starts empty).
        path = self.directory / name
        with (self.directory / ".run.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data: dict[str, Any] = (
                    json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
                )
                yield data
                _atomic_write_json(path, data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def suite_dir(self, suite: str) -> Path:
        """The folder a suite writes its raw outputs and summary.json into."""
        path = self.directory / suite
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record_target(self, target: Target) -> None:
        """Note the target (url, kind, version) in run.json; a resumed run keeps a history."""
        with self._locked() as data:
            described = target.describe()
            previous = data.get("target")
            if previous and previous != described:
                data.setdefault("previous_targets", []).append(previous)
            data["target"] = described

    def record_suite(self, summary: Summary) -> Path:
        """Write the suite's summary.json, then its verdict into run.json (atomically)."""
        path = summary.write(self.suite_dir(summary.suite))
        with self._locked() as data:
            data.setdefault("suites", {})[summary.suite] = {
                "verdict": str(summary.verdict),
                "summary": str(path.relative_to(self.directory)),
                "started_at": summary.started_at.isoformat(),
                "finished_at": summary.finished_at.isoformat(),
                "duration_s": summary.duration_s,
                "counts": summary.counts.model_dump(),
            }
            data["finished_at"] = utcnow().isoformat()
        return path

    def finish(
        self, timings: RunTimings | None = None, overall: dict[str, str] | None = None
    ) -> None:
        """Stamp the run's end time (a resumed run moves it forward), its phases' times and
        its overall verdict (assay.overall, over every suite the run holds).

        Called before the generators, so the evidence pack seals what is written here; a
        resumed run keeps the latest invocation's timings. Suite times stay in their entries.
        """
        with self._locked() as data:
            data["finished_at"] = utcnow().isoformat()
            if timings is not None:
                data["timings"] = timings.model_dump(exclude={"suites"}, exclude_none=True)
            if overall is not None:
                data["overall"] = overall

    def record_late_timings(
        self,
        *,
        total_s: float | None = None,
        generators: Mapping[str, float] | None = None,
        ci: CiTimings | None = None,
    ) -> Path:
        """Add to timings.json what is measured after the evidence pack sealed run.json."""
        with self._locked(TIMINGS_JSON) as data:
            try:
                current = LateTimings.model_validate({**data, "run_id": self.run_id})
            except ValidationError as exc:
                raise RunError(f"{self.directory / TIMINGS_JSON}: {exc}") from exc
            if total_s is not None:
                current.total_s = total_s
            if generators is not None:
                current.generators = dict(generators)
            if ci is not None:
                current.ci = ci
            data.clear()
            data.update(current.model_dump(mode="json", exclude_none=True))
        return self.directory / TIMINGS_JSON

    def verdicts(self) -> dict[str, Verdict]:
        """Each recorded suite's verdict."""
        suites: dict[str, dict[str, Any]] = self.read().get("suites", {})
        return {name: Verdict(entry["verdict"]) for name, entry in suites.items()}
