"""Adapters that run one scanner each and turn its native report into findings."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.iac import find_tool, run_all_checkov

# Value shapes that cannot hold a secret, so detect-secrets' keyword heuristics skip them:
# booleans (automountServiceAccountToken: false), Terraform references
# (secrets_kms_key_arn = module.kms.eks_key_arn), AWS ARNs (identifiers, not credentials)
# and the exceptions catalog's fingerprints (SHA-1 hashes of findings, by construction).
NOT_SECRETS = (
    r'^\s*fingerprint:\s*"?[0-9a-f]{40}"?\s*$',  # YAML lines reach the filter re-quoted
    r"(:|=)\s*(true|false)\s*$",
    r"=\s*(var|module|local|data|random_password|aws_[a-z0-9_]+)\.[A-Za-z0-9_.\[\]*]+\s*$",
    r"arn:aws[a-z-]*:[a-z0-9-]+:",
)
DB_UNREACHABLE = "vulnerability-database-unreachable"
# Never scanned: environments, caches, outputs (they are not the repository's code).
# Scanner -> (distribution, executable): where its version is read from.
TOOLS: dict[str, tuple[str, str]] = {
    "bandit": ("bandit", "bandit"),
    "pip-audit": ("pip-audit", "pip-audit"),
    "secrets": ("detect-secrets", "detect-secrets"),
    "sbom": ("cyclonedx-bom", "cyclonedx-py"),
    "checkov": ("checkov", "checkov"),
}
LOCK = "requirements.lock.txt"
VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
EXCLUDED_DIRS = (".venv", ".tox", "runs", "node_modules", "build", "dist", ".git", ".mypy_cache")


@dataclass
class Finding:
    """One problem a scanner reported."""

    tool: str
    rule: str
    severity: str  # high | medium | low
    path: str = ""
    line: int | None = None
    message: str = ""
    fingerprint: str = ""
    accepted: str = ""  # the catalog's reason, when an exception covers it


@dataclass
class ScanResult:
    """What one scanner produced: findings, reports, and whether it could judge at all."""

    tool: str
    findings: list[Finding] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    # A named, expected reason the scanner could not judge (the catalog may waive it by name);
    # an error without one is a crash, and fails the gate.
    condition: str = ""
    duration_s: float = 0.0
    finished_at: str = ""  # ISO time the scanner's reports were complete


def _run(argv: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - argv built here from fixed tool names
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def _missing(tool: str) -> ScanResult:
    return ScanResult(tool, error=f"{tool} is not installed (tox -e security installs it)")


def repository_files(root: Path) -> list[str]:
    """Tracked files of a git checkout, else every file outside the excluded folders."""
    if (root / ".git").exists():
        proc = _run(["git", "ls-files", "-z"], root)
        if proc.returncode == 0:
            return [f for f in proc.stdout.split("\0") if f and (root / f).is_file()]
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not set(p.relative_to(root).parts) & set(EXCLUDED_DIRS)
    )


def bandit(root: Path, out: Path) -> ScanResult:
    """Bandit over all Python code of the repository."""
    exe = find_tool("bandit")
    if exe is None:
        return _missing("bandit")
    report = out / "bandit.json"
    excluded = ",".join(f"./{d}" for d in EXCLUDED_DIRS)
    proc = _run([exe, "-r", ".", "-x", excluded, "-f", "json", "-o", str(report), "-q"], root)
    if not report.exists():
        return ScanResult("bandit", error=f"bandit exit {proc.returncode}: {proc.stderr[-500:]}")
    data = json.loads(report.read_text())
    result = ScanResult("bandit", reports=[report])
    for issue in data.get("results", []):
        result.findings.append(
            Finding(
                tool="bandit",
                rule=issue["test_id"],
                severity=issue["issue_severity"].lower(),
                path=issue["filename"].removeprefix("./"),
                line=issue.get("line_number"),
                message=issue["issue_text"],
            )
        )
    result.metrics["files"] = len(data.get("metrics", {})) - 1  # minus the _totals entry
    result.error = "; ".join(e.get("reason", "") for e in data.get("errors", []))
    return result


def runtime_closure(project: str = "assay") -> dict[str, str]:
    """The installed versions of the project's runtime dependencies, transitively."""
    pinned: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    stack: list[tuple[str, frozenset[str]]] = [(project, frozenset())]
    while stack:
        name, extras = stack.pop()
        key = str(canonicalize_name(name))
        if key in extras_seen and extras <= extras_seen[key]:
            continue
        extras_seen.setdefault(key, set()).update(extras)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # an optional dependency that this platform does not install
        if key != canonicalize_name(project):
            pinned[key] = dist.version
        for spec in dist.requires or []:
            req = Requirement(spec)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                stack.append((req.name, frozenset(req.extras)))
    return dict(sorted(pinned.items()))


def write_lock(out: Path) -> Path:
    """Pin the runtime closure into a requirements file (the lock pip-audit and the SBOM read)."""
    lock = out / LOCK
    lines = [f"{name}=={version}" for name, version in runtime_closure().items()]
    lock.write_text(
        "# Runtime dependency closure of assay, as installed\n" + "\n".join(lines) + "\n"
    )
    return lock


def pip_audit(root: Path, out: Path, lock: Path) -> ScanResult:
    """pip-audit over the pinned runtime closure."""
    exe = find_tool("pip-audit")
    if exe is None:
        return _missing("pip-audit")
    report = out / "pip-audit.json"
    argv = [exe, "-r", str(lock), "--no-deps", "--disable-pip", "-f", "json", "-o", str(report)]
    proc = _run([*argv, "--progress-spinner", "off", "--timeout", "20"], root)
    result = ScanResult("pip-audit", reports=[lock])
    if not report.exists():
        result.error = (
            f"pip-audit could not run (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
        )
        return result
    parsed = parse_pip_audit(json.loads(report.read_text()))
    parsed.reports = [lock, report]
    return parsed


def parse_pip_audit(data: dict[str, Any]) -> ScanResult:
    """Findings from a pip-audit JSON report; unaudited dependencies make it an error."""
    result = ScanResult("pip-audit")
    deps = data.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    result.metrics.update(
        dependencies=len(deps), audited=len(deps) - len(skipped), skipped=len(skipped)
    )
    for dep in deps:
        for vuln in dep.get("vulns", []):
            result.findings.append(
                Finding(
                    tool="pip-audit",
                    rule=vuln["id"],
                    severity="high",  # no CVSS offline: every known vulnerability blocks
                    path=f"{dep['name']}=={dep['version']}",
                    message=f"fix: {', '.join(vuln.get('fix_versions', [])) or 'none'}",
                )
            )
    if skipped or not deps:
        # No vulnerability database answered: refuse to call that a pass.
        example = skipped[0]["skip_reason"] if skipped else "empty report"
        result.error = (
            f"no vulnerability data for {len(skipped)} of {len(deps)} dependencies "
            f"(e.g. {example}); the vulnerability service is unreachable "
            "from this machine, so the audit cannot judge"
        )
        result.condition = DB_UNREACHABLE
    return result


def secrets(root: Path, out: Path) -> ScanResult:
    """detect-secrets over every tracked file."""
    exe = find_tool("detect-secrets")
    if exe is None:
        return _missing("detect-secrets")
    files = repository_files(root)
    excludes = [arg for pattern in NOT_SECRETS for arg in ("--exclude-lines", pattern)]
    proc = _run([exe, "scan", *excludes, *files], root)
    if proc.returncode != 0:
        return ScanResult(
            "secrets", error=f"detect-secrets exit {proc.returncode}: {proc.stderr[-400:]}"
        )
    report = out / "secrets.json"
    report.write_text(proc.stdout)
    data = json.loads(proc.stdout)
    result = ScanResult("secrets", reports=[report], metrics={"files": len(files)})
    for path, items in data.get("results", {}).items():
        for item in items:
            result.findings.append(
                Finding(
                    tool="secrets",
                    rule=item["type"],
                    severity="high",
                    path=path,
                    line=item.get("line_number"),
                    fingerprint=item["hashed_secret"],
                    message=f"possible {item['type']}",
                )
            )
    return result


def sbom(root: Path, out: Path, lock: Path) -> ScanResult:
    """A CycloneDX SBOM of the installed runtime environment (the pinned closure)."""
    exe = find_tool("cyclonedx-py")
    if exe is None:
        return _missing("cyclonedx-py")
    report = out / "sbom.cdx.json"
    argv = [exe, "requirements", str(lock), "--pyproject", str(root / "pyproject.toml")]
    proc = _run([*argv, "--of", "JSON", "-o", str(report), "--output-reproducible"], root)
    if proc.returncode != 0 or not report.exists():
        return ScanResult(
            "sbom", error=f"cyclonedx-py exit {proc.returncode}: {proc.stderr[-400:]}"
        )
    components = json.loads(report.read_text()).get("components", [])
    pinned = sum(1 for line in lock.read_text().splitlines() if "==" in line)
    result = ScanResult("sbom", reports=[report], metrics={"components": len(components)})
    if len(components) != pinned:
        result.error = f"SBOM lists {len(components)} components, the lock {pinned}"
    return result


def checkov(root: Path, out: Path) -> ScanResult:
    """The IaC checks (tox -e iac's checkov part), reports kept with the security run."""
    result = ScanResult("checkov")
    for res in run_all_checkov(root, out):
        result.reports.append(out / f"checkov-{res.framework}.json")
        result.metrics[res.framework] = {
            "passed": res.passed,
            "failed": res.failed,
            "skipped": res.skipped,
        }
        result.notes += [
            f"inline skip {s['check_id']} on {s['resource']}: {s['reason']}" for s in res.skips
        ]
        if res.error or res.parsing_errors:
            result.error = res.error or f"{res.parsing_errors} files checkov could not parse"
        result.findings += [
            Finding("checkov", f["check_id"], "high", f["file"] or "", f["line"], f["name"] or "")
            for f in res.failures
        ]
    result.reports = [p for p in result.reports if p.exists()]
    return result


def timed(fn: Any, *args: Any) -> ScanResult:
    """Run a scanner and record how long it took."""
    start = time.monotonic()
    result: ScanResult = fn(*args)
    result.duration_s = round(time.monotonic() - start, 2)
    result.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return result


def tool_version(scanner: str) -> str | None:
    """The scanner's version: its installed distribution, else its executable's --version."""
    dist, executable = TOOLS[scanner]
    try:
        return version(dist)
    except PackageNotFoundError:
        pass
    exe = find_tool(executable)
    if exe is None:
        return None
    try:
        proc = _run([exe, "--version"], Path.cwd(), timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = VERSION.search(proc.stdout + proc.stderr)
    return found.group(0) if found else None
