"""Building a pack: every file, a manifest that maps files to controls, reproducible bytes."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from assay.catalog.model import CATALOG_DIR
from assay.manifest import build_manifest, media_type
from assay.record import Run, load_run
from assay.signing import Signer, open_envelope, public_pem
from evidence.pack import ENVELOPE, MANIFEST, OSCAL, Pack, build_pack, read_manifest

pytestmark = pytest.mark.req("REQ-EVD-001")
CATALOG_FILES = list(CATALOG_DIR.glob("*.yaml"))  # run.json + the catalog as it was


def _suite_files(run: Run) -> set[str]:
    return {
        p.relative_to(run.path).as_posix()
        for suite in run.summaries
        for p in (run.path / suite).rglob("*")
        if p.is_file()
    }


def test_pack_holds_every_suite_file_run_json_and_the_catalog(pack: Pack, run_b: Run) -> None:
    names = set(zipfile.ZipFile(pack.archive).namelist())
    assert _suite_files(run_b) <= names
    assert {"run.json", "catalog/controls.yaml", "catalog/requirements.yaml"} <= names
    assert {MANIFEST, OSCAL, ENVELOPE} <= names


def test_manifest_digests_and_sizes_match_the_files(pack: Pack, run_b: Run) -> None:
    manifest = read_manifest(pack.manifest)
    with zipfile.ZipFile(pack.archive) as archive:
        for item in manifest.items:
            data = archive.read(item.path)
            assert hashlib.sha256(data).hexdigest() == item.sha256, item.path
            assert len(data) == item.size
    assert (
        len(manifest.items) == pack.items == len(_suite_files(run_b)) + 1 + len(CATALOG_FILES)
    )  # + run.json, catalog


def test_manifest_carries_commit_version_and_verdicts(pack: Pack) -> None:
    manifest = read_manifest(pack.manifest)
    assert manifest.git_commit == "b7e2104c5d6e7f8091a2b3c4d5e6f708192a3b4c"
    assert manifest.target_version == "0.9.1"
    assert manifest.verdicts["perf"] == "fail"
    assert manifest.verdicts["chaos"] == "fail"
    assert manifest.verdicts["acceptance"] == "pass"


def test_items_name_tool_requirements_controls_and_expiry(run_b: Run) -> None:
    manifest = build_manifest(run_b)
    journal = manifest.item("chaos/restart-database.journal.json")
    assert journal is not None
    assert journal.tool == "chaostoolkit"
    assert journal.tool_version == "1.19.0"
    assert journal.requirements == ["REQ-RES-002"]
    assert journal.controls == ["CC7.5"]  # via the catalog's requirement -> control link
    assert journal.expires_at == journal.collected_at + timedelta(days=30)  # CC7.5 freshness
    stats = manifest.item("perf/stats.csv")
    assert stats is not None
    assert stats.requirements == ["REQ-PERF-001", "REQ-PERF-002"]
    assert stats.expires_at == stats.collected_at + timedelta(days=7)
    assert stats.media_type == "text/csv"
    sbom = manifest.item("security/sbom.cdx.json")
    assert sbom is not None
    assert sbom.tool == "cyclonedx-bom"
    assert sbom.retention_days == 1095  # seed §30: security artefacts kept three years


def test_the_signed_statement_holds_the_anchored_audit_head(run_b: Run, signer: Signer) -> None:
    head = {"sequence": 7, "hash": "ab" * 32, "recorded_at": "2026-01-01T00:00:00+00:00"}
    (run_b.path / "acceptance" / "audit_head.json").write_text(json.dumps(head))
    pack = build_pack(run_b, signer)
    with zipfile.ZipFile(pack.archive) as archive:
        _, payload, _ = open_envelope(json.loads(archive.read(ENVELOPE)))
        assert "acceptance/audit_head.json" in archive.namelist()
    assert json.loads(payload)["predicate"]["audit_head"] == {"sequence": 7, "hash": "ab" * 32}


def test_media_types() -> None:
    assert media_type("security/sbom.cdx.json") == "application/vnd.cyclonedx+json"
    assert media_type("acceptance/junit.xml") == "application/xml"
    assert media_type("blob.bin") == "application/octet-stream"


def test_signed_statement_covers_every_file_but_the_envelope(pack: Pack) -> None:
    with zipfile.ZipFile(pack.archive) as archive:
        _, payload, _ = open_envelope(json.loads(archive.read(ENVELOPE)))
        statement = json.loads(payload)
        subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        names = set(archive.namelist()) - {ENVELOPE}
        assert set(subjects) == names
        signer = statement["predicate"].pop("signer")
        assert statement["predicate"].pop("audit_head") is None  # the fixture run anchored none
        assert statement["predicate"] == json.loads(archive.read(MANIFEST))
    # Who signed is inside what is signed: the public key, its id, its origin and the time.
    assert signer["keyid"] == pack.signer.key_id
    assert signer["public_key"] == public_pem(pack.signer.key.public_key()).decode()
    assert (signer["origin"], signer["source"]) == ("configured", "test key")
    assert datetime.fromisoformat(signer["signed_at"]).tzinfo is not None


def test_same_run_key_and_signing_time_give_byte_identical_packs(
    run_b: Run, signer: Signer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 11, 19, 7, tzinfo=UTC)
    first = build_pack(run_b, signer, tmp_path / "one", signed_at=at).archive.read_bytes()
    second = build_pack(run_b, signer, tmp_path / "two", signed_at=at).archive.read_bytes()
    assert first == second


def test_rebuilding_ignores_earlier_outputs_in_the_run(run_b: Run, signer: Signer) -> None:
    build_pack(run_b, signer)
    (run_b.path / "reports").mkdir()
    (run_b.path / "reports" / "status.html").write_text("<p>old</p>")
    again = build_pack(run_b, signer)
    names = zipfile.ZipFile(again.archive).namelist()
    assert not [n for n in names if n.startswith(("evidence/", "reports/"))]


def test_non_suite_folders_are_packed_and_hidden_files_are_not(run_b: Run, signer: Signer) -> None:
    (run_b.path / "target").mkdir()
    (run_b.path / "target" / "service.log").write_text("started\n")
    (run_b.path / ".run.lock").write_text("")
    manifest = read_manifest(build_pack(run_b, signer).manifest)
    log = manifest.item("target/service.log")
    assert log is not None
    assert (log.suite, log.tool, log.requirements) == (None, "assay", [])
    assert manifest.item(".run.lock") is None


def test_core_run_json_shape_is_read(run_b: Run) -> None:
    record = json.loads((run_b.path / "run.json").read_text())
    record.pop("git_commit")
    record["git"] = {"commit": "abc123", "branch": "main", "dirty": False}
    record["suites"] = {
        name: {"verdict": v, "finished_at": "2026-11-19T06:20:00+00:00"}
        for name, v in record["suites"].items()
    }
    record["finished_at"] = None
    (run_b.path / "run.json").write_text(json.dumps(record))
    manifest = build_manifest(load_run(run_b.path))
    assert manifest.git_commit == "abc123"
    assert manifest.verdicts["perf"] == "fail"
    assert manifest.finished_at.isoformat() == "2026-11-19T06:20:00+00:00"
