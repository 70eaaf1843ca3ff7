"""Tampering is detected and named: altered, added, removed, manifest edits, wrong key."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.signing import key_id
from evidence.pack import ENVELOPE, MANIFEST, Pack
from evidence.verify import Finding, Problem, verify_pack

pytestmark = pytest.mark.req("REQ-EVD-001")


def _rewrite(pack: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """Copy the pack with its members changed by `edit` (how a tamperer would do it)."""
    with zipfile.ZipFile(pack) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    edit(members)
    tampered = pack.with_name("tampered.zip")
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return tampered


def _found(pack: Path, key: Ed25519PrivateKey) -> list[tuple[Problem, str]]:
    return [(f.problem, f.path) for f in verify_pack(pack, key.public_key()).findings]


def test_untouched_pack_verifies(pack: Pack, key: Ed25519PrivateKey) -> None:
    result = verify_pack(pack.archive, key.public_key())
    assert result.ok, result.findings
    # items + manifest.json + waivers.json + OSCAL results, plan and component definition
    assert result.files == pack.items + 5


def test_one_altered_byte_is_named(pack: Pack, key: Ed25519PrivateKey) -> None:
    def flip(members: dict[str, bytes]) -> None:
        data = bytearray(members["perf/stats.csv"])
        data[10] ^= 0x01
        members["perf/stats.csv"] = bytes(data)

    assert _found(_rewrite(pack.archive, flip), key) == [(Problem.ALTERED, "perf/stats.csv")]


def test_an_added_file_is_named(pack: Pack, key: Ed25519PrivateKey) -> None:
    def add(members: dict[str, bytes]) -> None:
        members["perf/extra.csv"] = b"a,b\n1,2\n"

    assert _found(_rewrite(pack.archive, add), key) == [(Problem.ADDED, "perf/extra.csv")]


def test_a_removed_file_is_named(pack: Pack, key: Ed25519PrivateKey) -> None:
    def remove(members: dict[str, bytes]) -> None:
        del members["chaos/restart-database.journal.json"]

    found = _found(_rewrite(pack.archive, remove), key)
    assert found == [(Problem.REMOVED, "chaos/restart-database.journal.json")]


def test_an_edited_manifest_is_named_with_the_entry_changed(
    pack: Pack, key: Ed25519PrivateKey
) -> None:
    def edit(members: dict[str, bytes]) -> None:
        manifest = json.loads(members[MANIFEST])
        for item in manifest["items"]:
            if item["path"] == "chaos/restart-database.journal.json":
                item["controls"] = []
        members[MANIFEST] = json.dumps(manifest).encode()

    findings = verify_pack(_rewrite(pack.archive, edit), key.public_key()).findings
    assert [(f.problem, f.path) for f in findings] == [(Problem.ALTERED, MANIFEST)]
    assert "entry chaos/restart-database.journal.json changed" in findings[0].detail


def test_a_replaced_file_with_a_forged_manifest_still_fails_the_signature(
    pack: Pack, key: Ed25519PrivateKey
) -> None:
    def forge(members: dict[str, bytes]) -> None:
        envelope = json.loads(members[ENVELOPE])
        envelope["payload"] = envelope["payload"][:-8] + "AAAAAAA="
        members[ENVELOPE] = json.dumps(envelope).encode()

    found = _found(_rewrite(pack.archive, forge), key)
    assert (Problem.SIGNATURE, ENVELOPE) in found


def test_the_wrong_key_is_named(pack: Pack) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    result = verify_pack(pack.archive, other)
    assert [(f.problem, f.path) for f in result.findings] == [(Problem.SIGNATURE, ENVELOPE)]
    detail = result.findings[0].detail
    assert f"signed by key {pack.signer.key_id}, not the expected key {key_id(other)}" in detail
    assert result.signed_by is not None
    assert result.signed_by.key_id == pack.signer.key_id


def test_a_missing_attestation_is_named(pack: Pack, key: Ed25519PrivateKey) -> None:
    def drop(members: dict[str, bytes]) -> None:
        del members[ENVELOPE]

    assert _found(_rewrite(pack.archive, drop), key) == [(Problem.REMOVED, ENVELOPE)]


def test_a_file_that_is_not_a_zip_is_corrupt(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"not a zip")
    assert _found(bogus, key) == [(Problem.CORRUPT, "x.zip")]


def test_a_flipped_byte_in_the_raw_archive_is_caught(
    pack: Pack, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    raw = tmp_path / "raw.zip"
    shutil.copy(pack.archive, raw)
    with zipfile.ZipFile(raw) as archive:
        info = archive.getinfo("run.json")
    data = bytearray(raw.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + 3] ^= 0xFF  # inside run.json's data
    raw.write_bytes(bytes(data))
    found = _found(raw, key)
    assert found
    assert {path for _, path in found} == {"run.json"}


def test_findings_read_as_one_line_each() -> None:
    finding = Finding(Problem.ADDED, "perf/extra.csv", "in the pack, not in the manifest")
    assert str(finding) == "added: perf/extra.csv: in the pack, not in the manifest"
