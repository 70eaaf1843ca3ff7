"""The evidence manifest: every file of a run with its digest and the catalog ids it supports."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assay import __version__ as assay_version
from assay.catalog import Catalog
from assay.catalog.model import CATALOG_DIR
from assay.record import GENERATED, Run, RunProvenance
from assay.summary import Summary, Verdict

SCHEMA = "https://assay.dev/evidence-manifest/v1"

# The tool behind each suite's raw files; a summary may name others in metrics["tools"].
SUITE_TOOLS: dict[str, str] = {
    "acceptance": "pytest-bdd",
    "contract": "schemathesis",
    "perf": "locust",
    "chaos": "chaostoolkit",
    "security": "security-scan",
}
# Security outputs carry their tool in the file name.
FILE_TOOLS: dict[str, str] = {
    "bandit": "bandit",
    "pip-audit": "pip-audit",
    "pip_audit": "pip-audit",
    "sbom": "cyclonedx-bom",
    "cyclonedx": "cyclonedx-bom",
    "gitleaks": "gitleaks",
    "detect-secrets": "detect-secrets",
    "secrets": "detect-secrets",
    "checkov": "checkov",
    "trivy": "trivy",
}
MEDIA_TYPES: dict[str, str] = {
    ".cdx.json": "application/vnd.cyclonedx+json",
    ".sarif": "application/sarif+json",
    ".json": "application/json",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".html": "text/html",
    ".txt": "text/plain",
    ".log": "text/plain",
}
# Seed §30: evidence is kept one year by default, security artefacts three years.
DEFAULT_RETENTION_DAYS = 365
SECURITY_RETENTION_DAYS = 1095


class EvidenceItem(BaseModel):
    """One file of the pack and what it is evidence of."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str
    size: int
    media_type: str
    tool: str
    tool_version: str | None
    suite: str | None
    collected_at: datetime
    expires_at: datetime | None
    retention_days: int
    requirements: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)


class Manifest(BaseModel):
    """What a pack holds, for which run, commit and target version."""

    model_config = ConfigDict(extra="forbid")

    schema_: str = Field(SCHEMA, alias="schema")
    run_id: str
    git_commit: str | None
    target_url: str | None
    target_version: str | None
    target_kind: str | None = None
    provenance: RunProvenance = Field(default_factory=RunProvenance)  # CI run and actor
    started_at: datetime
    finished_at: datetime
    verdicts: dict[str, Verdict]
    catalog_source: str
    items: list[EvidenceItem]

    def item(self, path: str) -> EvidenceItem | None:
        """The item stored at `path`, if any."""
        return next((i for i in self.items if i.path == path), None)

    def to_json(self) -> bytes:
        """Canonical bytes: sorted keys, so the same run gives the same manifest."""
        return (self.model_dump_json(by_alias=True, indent=2) + "\n").encode()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_type(name: str) -> str:
    """The media type of a file name."""
    for suffix, kind in MEDIA_TYPES.items():
        if name.endswith(suffix):
            return kind
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _tool(
    suite: str | None, path: str, summary: Summary | None
) -> tuple[str, str | None, datetime | None]:
    """(tool, version, collected at) of a file: the summary's `metrics.tools` entry wins.

    A suite names its files' tools in `metrics["tools"]`, keyed by run path or file name,
    either as a tool name or as {"tool", "version", "collected_at"} (the security gate
    records each scanner's version and the time its report was written).
    """
    name = Path(path).name
    if suite is None or summary is None or name == "summary.json":
        return "assay", None, None
    named = summary.metrics.get("tools") or {}
    entry = named.get(path, named.get(name)) if isinstance(named, dict) else None
    if isinstance(entry, dict) and entry.get("tool"):
        at = entry.get("collected_at")
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
        return str(entry["tool"]), entry.get("version"), when
    if entry:
        return str(entry), None, None
    for stem, tool in FILE_TOOLS.items():
        if name.startswith(stem):
            return tool, None, None
    return SUITE_TOOLS.get(suite, suite), None, None


def source_files(run: Run) -> list[tuple[str, Path]]:
    """(pack path, file) for run.json, the catalog and every file in the run's folders."""
    files: list[tuple[str, Path]] = [("run.json", run.path / "run.json")]
    catalog_dir = run.catalog_dir() or CATALOG_DIR
    files += [(f"catalog/{p.name}", p) for p in sorted(catalog_dir.glob("*.yaml"))]
    # Every other file of the run (suite folders, the managed target's log), but not the
    # generators' own outputs nor hidden files such as the run's lock.
    for path in sorted(run.path.rglob("*")):
        name = path.relative_to(run.path).as_posix()
        parts = name.split("/")
        if len(parts) < 2 or parts[0] in GENERATED or parts[0] == "catalog":
            continue
        if path.is_file() and not any(p.startswith(".") for p in parts):
            files.append((name, path))
    return files


def _links(summary: Summary, catalog: Catalog, path: str) -> tuple[set[str], set[str]]:
    """Requirement and control ids a suite file supports: those of the checks citing it.

    A file no check cites supports nothing (it is kept, not credited to every control of
    its suite); the suite's summary.json records every check's verdict, so it supports all.
    """
    if path.endswith("/summary.json") and path.count("/") == 1:
        checks = summary.checks
    else:
        checks = [c for c in summary.checks if path in c.evidence]
    requirements = {r for c in checks for r in c.requirements}
    controls = {k for c in checks for k in c.controls}
    for req in requirements:
        if req in catalog.requirements:
            controls.update(catalog.requirements[req].controls)
    return requirements, controls


def build_items(
    run: Run, catalog: Catalog, files: Iterable[tuple[str, Path]]
) -> list[EvidenceItem]:
    """Describe each file: digest, size, type, tool, dates and the ids it supports."""
    packages = run.record.environment.packages
    items = []
    for name, path in files:
        folder = name.split("/", 1)[0] if "/" in name else ""
        suite = folder if folder in run.summaries else None  # e.g. target/ is no suite
        summary = run.summaries.get(folder)
        requirements, controls = _links(summary, catalog, name) if summary else (set(), set())
        tool, version, when = _tool(suite, name, summary)
        collected = when or (summary.finished_at if summary else run.record.finished_at)
        known = [catalog.controls[c] for c in controls if c in catalog.controls]
        fresh = min((c.freshness_days for c in known), default=None)
        floor = SECURITY_RETENTION_DAYS if suite == "security" else DEFAULT_RETENTION_DAYS
        if version is None:
            version = assay_version if tool == "assay" else packages.get(tool)
        items.append(
            EvidenceItem(
                path=name,
                sha256=sha256_file(path),
                size=path.stat().st_size,
                media_type=media_type(name),
                tool=tool,
                tool_version=version,
                suite=suite,
                collected_at=collected,
                expires_at=collected + timedelta(days=fresh) if fresh is not None else None,
                retention_days=max([floor, *(c.retention_days for c in known)]),
                requirements=sorted(requirements),
                controls=sorted(controls),
            )
        )
    return items


def build_manifest(run: Run, files: list[tuple[str, Path]] | None = None) -> Manifest:
    """The manifest of a run directory, read from its files only."""
    catalog = run.catalog()
    return Manifest(
        run_id=run.run_id,
        git_commit=run.record.git_commit,
        target_url=run.record.target.url,
        target_version=run.record.target.version,
        target_kind=run.record.target.kind,
        provenance=_provenance(run),
        started_at=run.record.started_at,
        finished_at=run.record.finished_at,
        verdicts={**run.record.suites, **{s: m.verdict for s, m in run.summaries.items()}},
        catalog_source="run" if run.catalog_dir() else "installed",
        items=build_items(run, catalog, files if files is not None else source_files(run)),
    )


def _provenance(run: Run) -> RunProvenance:
    """The run's CI run and actor; a run made before provenance was recorded keeps its host."""
    recorded = run.record.provenance
    if recorded.host is None and run.record.environment.host:
        return recorded.model_copy(update={"host": run.record.environment.host})
    return recorded
