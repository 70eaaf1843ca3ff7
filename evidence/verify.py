"""Verify a pack: its signature, then each file's digest; name what was altered, added, removed."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assay.manifest import SCHEMA
from assay.trust import Checked, SignedBy, Trust, check_statement
from evidence.pack import ENVELOPE, MANIFEST


class Problem(StrEnum):
    """What kind of change verification found."""

    ALTERED = "altered"
    ADDED = "added"
    REMOVED = "removed"
    SIGNATURE = "signature"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a pack, naming the file."""

    problem: Problem
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.problem.value}: {self.path}: {self.detail}"


@dataclass
class Verification:
    """The outcome of verifying one pack."""

    pack: Path
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    signed_by: SignedBy | None = None

    @property
    def ok(self) -> bool:
        """True when the signature holds and every file matches."""
        return not self.findings


def _read_members(archive: zipfile.ZipFile, result: Verification) -> dict[str, str]:
    digests: dict[str, str] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.filename in digests:
            result.findings.append(
                Finding(Problem.ADDED, info.filename, "a second copy in the archive")
            )
            continue
        try:
            digests[info.filename] = hashlib.sha256(archive.read(info)).hexdigest()
        except (zipfile.BadZipFile, OSError, ValueError, zlib.error) as exc:
            result.findings.append(Finding(Problem.ALTERED, info.filename, f"unreadable: {exc}"))
    return digests


def _statement(envelope: Any, trust: Trust, result: Verification) -> dict[str, Any] | None:
    checked: Checked = check_statement(envelope, trust, SCHEMA)
    result.signed_by = checked.signed_by
    for problem in checked.problems:
        result.findings.append(Finding(Problem.SIGNATURE, ENVELOPE, problem))
    return checked.document


def _manifest_changes(archive: zipfile.ZipFile, predicate: Any) -> list[str]:
    """Which manifest entries differ from the signed predicate (to name what was edited)."""
    try:
        loose = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error):
        return ["not readable JSON"]
    signed = {i["path"]: i for i in predicate.get("items", [])}
    edited = {i.get("path"): i for i in loose.get("items", []) if isinstance(i, dict)}
    changes = [f"entry {p} removed" for p in signed.keys() - edited.keys()]
    changes += [f"entry {p} added" for p in edited.keys() - signed.keys()]
    changes += [
        f"entry {p} changed" for p in signed.keys() & edited.keys() if signed[p] != edited[p]
    ]
    top = {
        k
        for k in predicate.keys() | loose.keys()
        if k not in {"items", "signer"} and predicate.get(k) != loose.get(k)
    }
    changes += [f"field {k} changed" for k in sorted(top)]
    return sorted(changes)


def verify_pack(path: Path, trust: Trust | Ed25519PublicKey) -> Verification:
    """Check the signer against `trust`, the DSSE signature and every subject digest of a pack.

    A bare public key pins that key (and refuses a development key).
    """
    if isinstance(trust, Ed25519PublicKey):
        trust = Trust.pinned(public=trust)
    result = Verification(pack=path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        result.findings.append(Finding(Problem.CORRUPT, path.name, f"not a readable zip: {exc}"))
        return result
    with archive:
        digests = _read_members(archive, result)
        if ENVELOPE not in digests:
            result.findings.append(
                Finding(Problem.REMOVED, ENVELOPE, "the signed attestation is missing")
            )
            return result
        try:
            envelope = json.loads(archive.read(ENVELOPE))
        except ValueError as exc:
            result.findings.append(Finding(Problem.ALTERED, ENVELOPE, f"not JSON: {exc}"))
            return result
        document = _statement(envelope, trust, result)
        if document is None:
            return result
        subjects = {s["name"]: s["digest"]["sha256"] for s in document.get("subject", [])}
        digests.pop(ENVELOPE)
        result.files = len(digests)
        for name in sorted(subjects.keys() - digests.keys()):
            result.findings.append(
                Finding(Problem.REMOVED, name, "listed in the manifest, not in the pack")
            )
        for name in sorted(digests.keys() - subjects.keys()):
            result.findings.append(Finding(Problem.ADDED, name, "in the pack, not in the manifest"))
        for name in sorted(subjects.keys() & digests.keys()):
            if subjects[name] != digests[name]:
                detail = f"sha256 {digests[name][:16]}… expected {subjects[name][:16]}…"
                if name == MANIFEST:
                    detail += "; " + "; ".join(_manifest_changes(archive, document["predicate"]))
                result.findings.append(Finding(Problem.ALTERED, name, detail))
    return result
