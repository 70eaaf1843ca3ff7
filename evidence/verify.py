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

from evidence.manifest import SCHEMA
from evidence.pack import ENVELOPE, MANIFEST
from evidence.signing import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    SigningError,
    envelope_verifies,
    key_id,
    open_envelope,
)


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


def _statement(
    envelope: Any, public: Ed25519PublicKey, result: Verification
) -> dict[str, Any] | None:
    try:
        payload_type, payload, signatures = open_envelope(envelope)
    except SigningError as exc:
        result.findings.append(Finding(Problem.SIGNATURE, ENVELOPE, str(exc)))
        return None
    if not envelope_verifies(envelope, public):
        named = ", ".join(k[:16] for k, _ in signatures) or "none"
        result.findings.append(
            Finding(
                Problem.SIGNATURE,
                ENVELOPE,
                f"signature does not verify with key {key_id(public)[:16]} "
                f"(envelope names {named})",
            )
        )
    if payload_type != PAYLOAD_TYPE:
        result.findings.append(
            Finding(Problem.SIGNATURE, ENVELOPE, f"payload type {payload_type!r}")
        )
    try:
        document = json.loads(payload)
    except ValueError as exc:
        result.findings.append(Finding(Problem.SIGNATURE, ENVELOPE, f"payload is not JSON: {exc}"))
        return None
    if document.get("_type") != STATEMENT_TYPE or document.get("predicateType") != SCHEMA:
        result.findings.append(
            Finding(Problem.SIGNATURE, ENVELOPE, "not an Assay in-toto statement")
        )
        return None
    return dict(document)


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
        k for k in signed.keys() | loose.keys() if k != "items" and predicate.get(k) != loose.get(k)
    }
    changes += [f"field {k} changed" for k in sorted(top)]
    return sorted(changes)


def verify_pack(path: Path, public: Ed25519PublicKey) -> Verification:
    """Check the DSSE signature and every subject digest of a pack archive."""
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
        document = _statement(envelope, public, result)
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
