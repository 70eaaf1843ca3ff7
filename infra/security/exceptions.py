"""Accepted findings: assay/catalog/security-exceptions.yaml, each with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import yaml

from infra.security.scanners import Finding

CATALOG = Path(__file__).resolve().parents[2] / "assay" / "catalog" / "security-exceptions.yaml"
TOOLS = {"bandit", "pip-audit", "secrets", "checkov"}


@dataclass(frozen=True)
class Accepted:
    """One accepted finding (or family of findings) and why."""

    tool: str
    rule: str
    reason: str
    path: str = "*"
    fingerprint: str = ""
    expires: dt.date | None = None

    def covers(self, finding: Finding, today: dt.date) -> bool:
        """True when this exception applies to the finding and has not expired."""
        if self.expires is not None and self.expires < today:
            return False
        return (
            finding.tool == self.tool
            and finding.rule == self.rule
            and fnmatch(finding.path, self.path)
            and (not self.fingerprint or finding.fingerprint == self.fingerprint)
        )


class CatalogError(ValueError):
    """The exceptions file is malformed (an entry without a reason, an unknown tool...)."""


def load(path: Path = CATALOG) -> list[Accepted]:
    """Read and validate the exceptions catalog."""
    raw = yaml.safe_load(path.read_text()) or {}
    entries = []
    for i, item in enumerate(raw.get("exceptions") or []):
        if item.get("tool") not in TOOLS:
            raise CatalogError(f"entry {i}: tool must be one of {sorted(TOOLS)}")
        if not item.get("rule") or len(str(item.get("reason", "")).split()) < 5:
            raise CatalogError(f"entry {i}: needs a rule and a reason of at least five words")
        entries.append(
            Accepted(
                tool=item["tool"],
                rule=str(item["rule"]),
                reason=item["reason"],
                path=item.get("path", "*"),
                fingerprint=item.get("fingerprint", ""),
                expires=item.get("expires"),
            )
        )
    return entries


def apply(findings: list[Finding], exceptions: list[Accepted], today: dt.date) -> None:
    """Mark each finding an exception covers as accepted, with the exception's reason."""
    for finding in findings:
        match = next((e for e in exceptions if e.covers(finding, today)), None)
        if match is not None:
            finding.accepted = match.reason
