"""Whose signature a statement carries, and whether it is the key the verifier expects.

A statement names its signer (public key, key id, origin, signing time) inside what is signed,
so a verifier can say which key it found. A signature only says something about who signed
when the key is pinned (`--key-id`, `--public-key`): anyone can re-sign a doctored run with a
key of their own, and that key verifies its own signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assay.manifest import sha256_file
from assay.record import write_atomic
from assay.signing import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Origin,
    Signer,
    SigningError,
    dumps,
    envelope_verifies,
    key_id,
    open_envelope,
    sign_envelope,
    statement,
)


@dataclass(frozen=True)
class SignedBy:
    """The signer a statement names: its key, where the key came from, when it signed."""

    key_id: str
    origin: str
    source: str
    signed_at: str
    public: Ed25519PublicKey

    def __str__(self) -> str:
        return f"key {self.key_id} ({self.origin}: {self.source}), signed at {self.signed_at}"


@dataclass(frozen=True)
class Trust:
    """What the verifier expects: pinned key ids, and whether a development key will do."""

    key_ids: frozenset[str] = frozenset()
    allow_dev: bool = False

    @classmethod
    def pinned(
        cls, *ids: str | None, public: Ed25519PublicKey | None = None, allow_dev: bool = False
    ) -> Trust:
        """Trust the given key ids (hex, optionally `sha256:`-prefixed) and public key."""
        wanted = {normalise(i) for i in ids if i}
        if public is not None:
            wanted.add(key_id(public))
        return cls(frozenset(wanted), allow_dev)


def normalise(ident: str) -> str:
    """A key id as stored: lower-case hex without a `sha256:` prefix."""
    ident = ident.strip().lower()
    return ident.removeprefix("sha256:")


@dataclass
class Checked:
    """A statement whose envelope was opened: the document, its signer, what is wrong."""

    document: dict[str, Any] | None = None
    signed_by: SignedBy | None = None
    problems: list[str] = field(default_factory=list)


def signed_by(block: Any) -> SignedBy:
    """The signer block of a statement, with its key id checked against its public key."""
    if not isinstance(block, dict):
        raise SigningError("the signed statement names no signer (no public key, no key id)")
    try:
        public = serialization.load_pem_public_key(str(block["public_key"]).encode())
    except (KeyError, ValueError) as exc:
        raise SigningError(f"the signer's public key is unreadable: {exc}") from exc
    if not isinstance(public, Ed25519PublicKey):
        raise SigningError("the signer's public key is not Ed25519")
    found = key_id(public)
    if normalise(str(block.get("keyid", ""))) != found:
        raise SigningError(f"the signer's key id {block.get('keyid')!r} is not its key's {found}")
    return SignedBy(
        key_id=found,
        origin=str(block.get("origin", "unknown")),
        source=str(block.get("source", "")),
        signed_at=str(block.get("signed_at", "")),
        public=public,
    )


def trust_problems(found: SignedBy, trust: Trust) -> list[str]:
    """Why the signer is not acceptable to this verifier (none when it is)."""
    problems = []
    if found.origin == Origin.DEVELOPMENT and not trust.allow_dev:
        problems.append(
            f"signed with a development key {found.key_id} ({found.source}); "
            "pass --dev to accept development evidence"
        )
    elif found.origin not in {Origin.CONFIGURED, Origin.DEVELOPMENT}:
        problems.append(f"signer origin {found.origin!r} is not one Assay records")
    if trust.key_ids and found.key_id not in trust.key_ids:
        expected = ", ".join(sorted(trust.key_ids))
        problems.append(f"signed by key {found.key_id}, not the expected key {expected}")
    if not trust.key_ids and not trust.allow_dev:
        problems.append("no expected key: pass --key-id or --public-key")
    return problems


def check_statement(envelope: Any, trust: Trust, predicate_type: str) -> Checked:
    """Open a DSSE envelope, find its signer, verify the signature with that key, apply `trust`."""
    checked = Checked()
    try:
        payload_type, payload, _signatures = open_envelope(envelope)
    except SigningError as exc:
        checked.problems.append(str(exc))
        return checked
    if payload_type != PAYLOAD_TYPE:
        checked.problems.append(f"payload type {payload_type!r}")
    try:
        document = json.loads(payload)
    except ValueError as exc:
        checked.problems.append(f"payload is not JSON: {exc}")
        return checked
    if (
        not isinstance(document, dict)
        or document.get("_type") != STATEMENT_TYPE
        or document.get("predicateType") != predicate_type
    ):
        checked.problems.append(f"not an in-toto statement of {predicate_type}")
        return checked
    checked.document = document
    predicate = document.get("predicate")
    try:
        found = signed_by(predicate.get("signer") if isinstance(predicate, dict) else None)
    except SigningError as exc:
        checked.problems.append(str(exc))
        return checked
    checked.signed_by = found
    if not envelope_verifies(envelope, found.public):
        checked.problems.append(f"signature does not verify with the named key {found.key_id}")
    checked.problems += trust_problems(found, trust)
    return checked


# A folder of loose files (a run's reports) signed in place: the statement sits beside them.
FOLDER_ATTESTATION = "attestation.intoto.dsse.json"
FOLDER_PREDICATE = "https://assay.dev/signed-folder/v1"


def sign_folder(
    folder: Path, signer: Signer, predicate: dict[str, Any], signed_at: datetime | None = None
) -> Path:
    """Hash every file of `folder` into a signed statement written beside them."""
    subjects = {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != FOLDER_ATTESTATION
    }
    body = {**predicate, "signer": signer.identity(signed_at or datetime.now(UTC))}
    envelope = sign_envelope(dumps(statement(subjects, FOLDER_PREDICATE, body)), signer.key)
    return write_atomic(folder / FOLDER_ATTESTATION, json.dumps(envelope, indent=2).encode())


def verify_folder(folder: Path, trust: Trust) -> Checked:
    """Check a signed folder: its signer against `trust`, then every file against its digest."""
    source = folder / FOLDER_ATTESTATION
    try:
        envelope = json.loads(source.read_bytes())
    except (OSError, ValueError) as exc:
        return Checked(problems=[f"{source}: no readable attestation: {exc}"])
    checked = check_statement(envelope, trust, FOLDER_PREDICATE)
    if checked.document is None:
        return checked
    subjects = {s["name"]: s["digest"]["sha256"] for s in checked.document.get("subject", [])}
    present = {
        p.relative_to(folder).as_posix(): p
        for p in folder.rglob("*")
        if p.is_file() and p.name != FOLDER_ATTESTATION
    }
    for name in sorted(subjects.keys() - present.keys()):
        checked.problems.append(f"removed: {name}: signed, not in the folder")
    for name in sorted(present.keys() - subjects.keys()):
        checked.problems.append(f"added: {name}: in the folder, not signed")
    for name in sorted(subjects.keys() & present.keys()):
        if sha256_file(present[name]) != subjects[name]:
            checked.problems.append(f"altered: {name}: sha256 differs from the signed digest")
    return checked
