"""in-toto Statement v1 signed as a DSSE envelope with Ed25519; the signing keys and who they are.

Shared by the evidence pack and the signed reports manifest (both generators sign a run's files).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assay.record import write_atomic

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
KEY_ENV = "ASSAY_SIGNING_KEY"


class SigningError(Exception):
    """A key cannot be read, or an envelope is malformed."""


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding of a payload type and body."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def statement(subjects: dict[str, str], predicate_type: str, predicate: Any) -> dict[str, Any]:
    """An in-toto Statement v1 whose subjects are {name: sha256}."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def key_id(public: Ed25519PublicKey) -> str:
    """sha256 of the raw public key, hex: names the key without trusting it."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_envelope(payload: bytes, key: Ed25519PrivateKey) -> dict[str, Any]:
    """A DSSE envelope carrying `payload`, signed over its PAE."""
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode()}
        ],
    }


def _b64(text: str) -> bytes:
    # DSSE lets signers use either standard or URL-safe base64.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def open_envelope(envelope: Any) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """Decode an envelope into (payload type, payload, [(keyid, signature)])."""
    try:
        payload = _b64(envelope["payload"])
        signatures = [(s.get("keyid", ""), _b64(s["sig"])) for s in envelope["signatures"]]
        return str(envelope["payloadType"]), payload, signatures
    except (KeyError, TypeError, AttributeError, binascii.Error, ValueError) as exc:
        raise SigningError(f"malformed DSSE envelope: {exc}") from exc


def envelope_verifies(envelope: Any, public: Ed25519PublicKey) -> bool:
    """Whether any signature of the envelope verifies with this public key."""
    payload_type, payload, signatures = open_envelope(envelope)
    message = pae(payload_type, payload)
    for _keyid, signature in signatures:
        try:
            public.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def generate_key(path: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key (PEM, mode 0600) and its public key beside it (.pub)."""
    if path.exists():
        raise SigningError(f"{path}: exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomic(path, private)
    os.chmod(path, 0o600)
    public_path = path.with_name(path.name + ".pub")
    write_atomic(public_path, public_pem(key.public_key()))
    return path, public_path


def public_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem_private_key(data: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{source}: not a readable PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{source}: not an Ed25519 key")
    return key


def load_private_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The signing key from `path`, else from ASSAY_SIGNING_KEY (a PEM file, or the PEM itself)."""
    return configured_signer(path).key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key file also works)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read: {exc}") from exc
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise SigningError(f"{path}: not a PEM Ed25519 key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 key")
    return key


def dumps(document: Any) -> bytes:
    """Deterministic JSON bytes for signing (sorted keys, compact)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class Origin(StrEnum):
    """Where a signing key came from, recorded in what it signs."""

    CONFIGURED = "configured"  # ASSAY_SIGNING_KEY or --key: the organisation's key
    DEVELOPMENT = "development"  # made on this machine because no key was configured


@dataclass(frozen=True)
class Signer:
    """A private key and where it came from."""

    key: Ed25519PrivateKey
    origin: Origin
    source: str

    @property
    def key_id(self) -> str:
        """sha256 of the raw public key, hex."""
        return key_id(self.key.public_key())

    def identity(self, signed_at: datetime) -> dict[str, str]:
        """The signer block a statement carries: public key, its id, origin and signing time."""
        return {
            "keyid": self.key_id,
            "algorithm": "ed25519",
            "public_key": public_pem(self.key.public_key()).decode(),
            "origin": self.origin.value,
            "source": self.source,
            "signed_at": signed_at.isoformat(),
        }


DEV_KEY = Path(".keys") / "evidence-signing.pem"


def configured_signer(path: Path | None = None) -> Signer:
    """The configured key: `path` (--key), else ASSAY_SIGNING_KEY (a PEM file or PEM text)."""
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"{path}: cannot read: {exc}") from exc
        return Signer(_pem_private_key(data, str(path)), Origin.CONFIGURED, f"file {path}")
    value = os.environ.get(KEY_ENV, "").strip()
    if not value:
        raise SigningError(f"no signing key: set {KEY_ENV} or pass --key (assay evidence keygen)")
    if value.startswith("-----BEGIN"):  # a CI secret holding the key itself
        key = _pem_private_key(value.encode(), f"${KEY_ENV}")
        return Signer(key, Origin.CONFIGURED, f"${KEY_ENV} (PEM)")
    source = Path(value)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise SigningError(f"${KEY_ENV}={source}: cannot read: {exc}") from exc
    key = _pem_private_key(data, f"${KEY_ENV}={source}")
    return Signer(key, Origin.CONFIGURED, f"${KEY_ENV} file {source}")


def signer_for(runs_dir: Path) -> Signer:
    """The configured key when ASSAY_SIGNING_KEY is set, else the runs folder's development key.

    The development key is made once (`<runs>/.keys/evidence-signing.pem`, mode 0600) and
    kept, so a machine's runs share one key; what it signs says "development", and verify
    refuses it unless asked for (`--dev`).
    """
    if os.environ.get(KEY_ENV, "").strip():
        return configured_signer()
    local = runs_dir / DEV_KEY
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        generate_key(local)
    key = _pem_private_key(local.read_bytes(), str(local))
    return Signer(key, Origin.DEVELOPMENT, f"development key {local}")
