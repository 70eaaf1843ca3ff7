"""DSSE pre-authentication encoding, envelopes and keys."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.signing import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    SigningError,
    envelope_verifies,
    generate_key,
    load_private_key,
    load_public_key,
    pae,
    sign_envelope,
    statement,
)


def test_pae_matches_the_dsse_test_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_statement_is_in_toto_v1_with_sorted_subjects() -> None:
    document = statement({"b.txt": "22", "a.txt": "11"}, "https://example/p", {"k": 1})
    assert document["_type"] == STATEMENT_TYPE
    assert document["subject"] == [
        {"name": "a.txt", "digest": {"sha256": "11"}},
        {"name": "b.txt", "digest": {"sha256": "22"}},
    ]
    assert document["predicateType"] == "https://example/p"


def test_envelope_verifies_with_its_key_only() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = sign_envelope(b'{"x":1}', key)
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == b'{"x":1}'
    assert envelope_verifies(envelope, key.public_key())
    assert not envelope_verifies(envelope, Ed25519PrivateKey.generate().public_key())


def test_changed_payload_breaks_the_signature() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = sign_envelope(b'{"x":1}', key)
    envelope["payload"] = base64.b64encode(b'{"x":2}').decode()
    assert not envelope_verifies(envelope, key.public_key())


def test_url_safe_base64_is_accepted() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = sign_envelope(json.dumps({"?>": "~~~"}).encode(), key)
    envelope["payload"] = base64.urlsafe_b64encode(base64.b64decode(envelope["payload"])).decode()
    assert envelope_verifies(envelope, key.public_key())


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    private, public = generate_key(tmp_path / "signing.key")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = load_private_key(private)
    assert load_public_key(public) == key.public_key()
    assert load_public_key(private) == key.public_key()


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    generate_key(tmp_path / "k")
    with pytest.raises(SigningError, match="exists"):
        generate_key(tmp_path / "k")


def test_signing_key_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, _ = generate_key(tmp_path / "k")
    monkeypatch.setenv("ASSAY_SIGNING_KEY", str(private))
    assert isinstance(load_private_key(), Ed25519PrivateKey)
    monkeypatch.delenv("ASSAY_SIGNING_KEY")
    with pytest.raises(SigningError, match="ASSAY_SIGNING_KEY"):
        load_private_key()


def test_a_non_key_file_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a key")
    with pytest.raises(SigningError, match=r"bogus\.pem"):
        load_private_key(bogus)
    with pytest.raises(SigningError, match=r"bogus\.pem"):
        load_public_key(bogus)
