"""Waivers are complete: each has an owner, an approver, a reason, a ticket and an expiry.

Part of `assay catalog check`. Waivers are whatever leaves something unjudged on purpose:

- security exceptions (`security-exceptions.yaml`, `exceptions:`), read by the security gate;
- inline scanner skips: `#checkov:skip=RULE:why` in Terraform, `checkov.io/skipN: RULE=why`
  in Helm templates, `# nosec` in Python. Each must be registered in `inline_skips:` (same
  file) by tool, rule and a path glob, so the skip next to the code has someone answering
  for it;
- SLOs a perf shape leaves unjudged (`unjudged:` in perf/profiles.yaml), registered in
  `unjudged_slos:` (slos.yaml) by shape and SLO;
- requirements with an `untested_reason`, whose `waiver:` gives the rest.

A waiver whose approver is its owner, or which has expired, is an error too.
"""

from __future__ import annotations

import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

import yaml

from assay.catalog.model import Catalog

PROFILES = Path("perf/profiles.yaml")
TERRAFORM_SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)")
HELM_SKIP = re.compile(r"checkov\.io/skip\d*:\s*([A-Z0-9_]+)=")
NOSEC = re.compile(r"^#\s*nosec\b[:\s]*([A-Z]\d+)?")
PYTHON_FOLDERS: tuple[str, ...] = ("assay", "evidence", "reports", "reference_service", "infra")
PYTHON_FOLDERS += ("perf", "chaos", "contracts", "features", "tests")
SKIP_DIRS = {".venv", ".tox", "runs", "__pycache__", "node_modules", ".git", ".terraform"}


@dataclass(frozen=True)
class SkipSite:
    """One inline skip found in the code."""

    tool: str
    rule: str
    path: str
    line: int


def _files(root: Path, folder: str, pattern: str) -> Iterator[Path]:
    base = root / folder
    if not base.is_dir():
        return
    for path in sorted(base.rglob(pattern)):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts):
            yield path


def inline_skips(root: Path) -> list[SkipSite]:
    """checkov skips in infra/ (Terraform, Helm) and `# nosec` in Python, where they stand."""
    sources: list[tuple[str, str, re.Pattern[str], str]] = [
        ("infra", "*.tf", TERRAFORM_SKIP, "checkov"),
        ("infra", "*.tpl", HELM_SKIP, "checkov"),
        ("infra", "*.yaml", HELM_SKIP, "checkov"),
    ]
    found: list[SkipSite] = []
    for folder, pattern, regex, tool in sources:
        for path in _files(root, folder, pattern):
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in regex.finditer(line):
                    found.append(SkipSite(tool, match.group(1), rel, number))
    for folder in PYTHON_FOLDERS:
        for path in _files(root, folder, "*.py"):
            found += _nosec(path, path.relative_to(root).as_posix())
    return found


def _nosec(path: Path, rel: str) -> list[SkipSite]:
    # Only real comments count: `# nosec` inside a string or docstring skips nothing.
    found = []
    try:
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                match = NOSEC.match(token.string) if token.type == tokenize.COMMENT else None
                if match:
                    found.append(SkipSite("bandit", match.group(1) or "*", rel, token.start[0]))
    except (tokenize.TokenError, SyntaxError):
        return found  # a file Python cannot read is reported by the link scan
    return found


def unjudged_slos(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(shape, SLO id) for every SLO a perf shape leaves unjudged; plus read errors."""
    path = root / PROFILES
    if not path.is_file():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return [], [f"{PROFILES}: not YAML: {exc}"]
    shapes = data.get("shapes") if isinstance(data, dict) else None
    found = []
    for shape, config in (shapes or {}).items():
        unjudged = config.get("unjudged") if isinstance(config, dict) else None
        found += [(str(shape), str(slo)) for slo in (unjudged or {})]
    return found, []


def check_waivers(root: Path, catalog: Catalog, today: date) -> tuple[list[str], list[str]]:
    """(errors, warnings): incomplete, self-approved or expired waivers; unregistered skips."""
    errors: list[str] = []
    warnings: list[str] = []
    for waiver in catalog.waivers():
        name = f"waiver {waiver.kind.value} {waiver.subject}"
        missing = waiver.missing()
        if missing:
            errors.append(f"{name}: no {', '.join(missing)}")
        if waiver.owner and waiver.owner == waiver.approver:
            errors.append(f"{name}: approved by its own owner {waiver.owner}")
        if waiver.expires is not None and waiver.expired(today):
            errors.append(f"{name}: expired on {waiver.expires.isoformat()}")

    used: set[int] = set()
    for site in inline_skips(root):
        match = next(
            (
                i
                for i, entry in enumerate(catalog.inline_skips)
                if entry.tool == site.tool
                and entry.rule == site.rule
                and fnmatch(site.path, entry.path)
            ),
            None,
        )
        if match is None:
            errors.append(
                f"{site.path}:{site.line}: inline {site.tool} skip {site.rule} is not registered "
                "in inline_skips (security-exceptions.yaml)"
            )
        else:
            used.add(match)
    for i, entry in enumerate(catalog.inline_skips):
        if i not in used:
            warnings.append(
                f"inline_skips: {entry.tool} {entry.rule} in {entry.path} skips nothing"
            )

    shapes, problems = unjudged_slos(root)
    errors += problems
    registered = {(u.shape, u.slo) for u in catalog.unjudged_slos}
    for shape, slo in shapes:
        if (shape, slo) not in registered:
            errors.append(
                f"{PROFILES}: shape {shape} leaves {slo} unjudged without an unjudged_slos "
                "waiver in the catalog"
            )
    for shape, slo in sorted(registered - set(shapes)):
        if (root / PROFILES).is_file():
            warnings.append(f"unjudged_slos: {slo} in shape {shape} is judged now; drop it")
    return errors, warnings
