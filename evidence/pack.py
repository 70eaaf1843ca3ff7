"""Build a run's evidence pack: files + manifest + OSCAL results, signed, in one zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assay.audit_anchor import read_anchor
from assay.manifest import SCHEMA, Manifest, build_manifest, source_files
from assay.record import Run, write_atomic
from assay.signing import Signer, dumps, sign_envelope, statement
from evidence import oscal, oscal_plan, waivers

MANIFEST = "manifest.json"
ENVELOPE = "attestation.intoto.dsse.json"
OSCAL = f"oscal/{oscal.FILENAME}"
PLAN = f"oscal/{oscal_plan.PLAN}"
COMPONENTS = f"oscal/{oscal_plan.COMPONENTS}"
WAIVERS = waivers.FILENAME


@dataclass(frozen=True)
class Pack:
    """Where a built pack and its loose copies were written."""

    archive: Path
    manifest: Path
    envelope: Path
    oscal: Path
    items: int
    signer: Signer


def pack_name(run_id: str) -> str:
    """The archive file name for a run."""
    return f"{run_id}.evidence.zip"


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    # Fixed member times (the run's end) make the same run give byte-identical packs.
    t = moment.timetuple()
    return (max(t.tm_year, 1980), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _member(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def build_pack(
    run: Run, signer: Signer, out_dir: Path | None = None, *, signed_at: datetime | None = None
) -> Pack:
    """Collect, manifest, attest and sign a run; write the zip and loose copies atomically.

    The signed predicate is the manifest plus a `signer` block (public key, key id, origin,
    signing time), so the pack says who signed it inside what the signature covers, and the
    target's anchored audit head (`audit_head`: sequence and hash, or null).
    """
    files = source_files(run)
    manifest = build_manifest(run, files)
    manifest_bytes = manifest.to_json()
    catalog = run.catalog()
    in_force = waivers.waivers(run)
    oscal_bytes = oscal.to_json(oscal.assessment_results(run, manifest, in_force))
    generated = {
        WAIVERS: waivers.to_json(run),
        PLAN: oscal.to_json(oscal_plan.assessment_plan(manifest, catalog, sorted(run.summaries))),
        COMPONENTS: oscal.to_json(oscal_plan.component_definition(manifest, catalog)),
        OSCAL: oscal_bytes,
    }
    subjects = {item.path: item.sha256 for item in manifest.items}
    subjects[MANIFEST] = hashlib.sha256(manifest_bytes).hexdigest()
    subjects.update({name: hashlib.sha256(data).hexdigest() for name, data in generated.items()})
    predicate = json.loads(manifest_bytes)
    predicate["signer"] = signer.identity(signed_at or datetime.now(UTC))
    # The target's audit head at the end of the run, signed: a later shorter or rewritten
    # chain is named by `assay evidence anchor-check`.
    predicate["audit_head"] = read_anchor(run.path)
    envelope = sign_envelope(dumps(statement(subjects, SCHEMA, predicate)), signer.key)
    envelope_bytes = json.dumps(envelope, indent=2).encode() + b"\n"

    when = _zip_time(manifest.finished_at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in files:
            archive.writestr(_member(name, when), path.read_bytes())
        archive.writestr(_member(MANIFEST, when), manifest_bytes)
        for name, data in generated.items():
            archive.writestr(_member(name, when), data)
        archive.writestr(_member(ENVELOPE, when), envelope_bytes)

    folder = out_dir or run.path / "evidence"
    return Pack(
        archive=write_atomic(folder / pack_name(run.run_id), buffer.getvalue()),
        manifest=write_atomic(folder / MANIFEST, manifest_bytes),
        envelope=write_atomic(folder / ENVELOPE, envelope_bytes),
        oscal=write_atomic(folder / oscal.FILENAME, oscal_bytes),
        items=len(manifest.items),
        signer=signer,
    )


def read_manifest(path: Path) -> Manifest:
    """A manifest.json written by `build_pack`."""
    return Manifest.model_validate_json(path.read_bytes())
