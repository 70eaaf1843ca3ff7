"""`assay evidence audit --from --to`: a period of signed evidence, its gaps and its failures."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from assay.record import load_run, load_runs
from assay.signing import Origin, Signer, public_pem
from evidence.audit import audit
from evidence.cli import evidence_app
from evidence.pack import build_pack, pack_name
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C

runner = CliRunner()
PERIOD = ["--from", "2026-11-01", "--to", "2026-12-15"]


@pytest.fixture
def signed(runs_dir: Path, signer: Signer, tmp_path: Path) -> Path:
    """Packs for the three fixture runs; returns the public key file that signed them."""
    for run_id in (RUN_A, RUN_B, RUN_C):
        build_pack(load_run(runs_dir / run_id), signer)
    public = tmp_path / "signing.pub"
    public.write_bytes(public_pem(signer.key.public_key()))
    return public


def _audit(runs_dir: Path, public: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = runner.invoke(
        evidence_app, ["audit", str(runs_dir), "--public-key", str(public), "--json", *args]
    )
    document = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, document, result.stderr


def _control(document: dict, control_id: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in document["controls"] if c["control_id"] == control_id)


def test_the_period_lists_every_run_and_names_a_gap_and_a_failure(
    runs_dir: Path, signed: Path
) -> None:
    code, document, _ = _audit(runs_dir, signed, *PERIOD, "--strict")
    assert code == 1
    restart = _control(document, "CC7.5")  # database restart fails in run B
    assert [r["run_id"] for r in restart["runs"]] == [RUN_A, RUN_B, RUN_C]
    assert [r["result"] for r in restart["runs"]][1] == "not-satisfied"
    assert restart["failures"] == [RUN_B]
    assert restart["gaps"] == []  # weekly runs inside a 30-day frequency
    scans = _control(document, "CC6.8")  # weekly evidence due: the period starts 11 days early
    assert scans["failures"] == []
    assert [(g["from"][:10], g["to"][:10]) for g in scans["gaps"]] == [
        ("2026-11-01", "2026-11-12"),
        ("2026-11-26", "2026-12-15"),
    ]
    assert scans["gaps"][0]["days"] > scans["frequency_days"]


def test_a_forged_summary_outside_a_verified_pack_never_counts(
    runs_dir: Path, signed: Path
) -> None:
    # A later run "fixes" the failure, but nobody signed it.
    forged = runs_dir / "20261203T060000Z-f0f0f0"
    shutil.copytree(runs_dir / RUN_C, forged, ignore=shutil.ignore_patterns("evidence"))
    record = json.loads((forged / "run.json").read_text())
    record.update(run_id=forged.name, started_at="2026-12-03T06:00:00Z")
    record["finished_at"] = "2026-12-03T06:20:00Z"
    (forged / "run.json").write_text(json.dumps(record))
    # And someone edits run B's loose summary so its failure disappears.
    chaos = runs_dir / RUN_B / "chaos" / "summary.json"
    chaos.write_text(chaos.read_text().replace('"fail"', '"pass"'))
    code, document, stderr = _audit(runs_dir, signed, *PERIOD)
    assert code == 0
    assert f"skipped {forged.name}: no evidence pack" in stderr
    restart = _control(document, "CC7.5")
    assert forged.name not in [r["run_id"] for r in restart["runs"]]
    assert restart["failures"] == [RUN_B]  # read from the signed pack, not the edited file


def test_a_pack_signed_by_another_key_or_altered_is_skipped(runs_dir: Path, signed: Path) -> None:
    other = Signer(Ed25519PrivateKey.generate(), Origin.CONFIGURED, "someone else")
    build_pack(load_run(runs_dir / RUN_C), other)
    pack = runs_dir / RUN_B / "evidence" / pack_name(RUN_B)
    with zipfile.ZipFile(pack, "a") as archive:
        archive.writestr("chaos/extra.json", "{}")
    code, document, stderr = _audit(runs_dir, signed, *PERIOD)
    assert code == 0
    assert f"skipped {RUN_C}: pack does not verify" in stderr
    assert f"skipped {RUN_B}: pack does not verify" in stderr
    assert [r["run_id"] for r in _control(document, "CC7.5")["runs"]] == [RUN_A]
    assert {s["run"] for s in document["skipped"]} == {RUN_B, RUN_C}


def test_one_corrupt_run_is_reported_and_the_audit_goes_on(runs_dir: Path, signed: Path) -> None:
    broken = runs_dir / "20261120T060000Z-0badf0"
    broken.mkdir()
    (broken / "run.json").write_text("{ not json")
    (broken / "evidence").mkdir()
    (broken / "evidence" / pack_name(broken.name)).write_bytes(b"PK\x03\x04 truncated")
    code, document, stderr = _audit(runs_dir, signed, *PERIOD)
    assert code == 0
    assert f"skipped {broken.name}: pack does not verify" in stderr
    assert len(_control(document, "CC7.5")["runs"]) == 3


def test_as_of_never_counts_later_runs(runs_dir: Path, signed: Path) -> None:
    code, document, stderr = _audit(
        runs_dir, signed, "--from", "2026-11-10", "--as-of", "2026-11-20T00:00:00Z"
    )
    assert code == 0
    assert document["not_counted_after_as_of"] == [RUN_C]
    assert "not counted" in stderr
    assert [r["run_id"] for r in _control(document, "CC7.5")["runs"]] == [RUN_A, RUN_B]
    result = runner.invoke(
        evidence_app,
        ["audit", str(runs_dir), "--public-key", str(signed), "--json", "--as-of", "2026-11-20"],
    )
    rows = json.loads(result.stdout)
    assert all(r["age_days"] is None or r["age_days"] >= 0 for r in rows)
    assert next(r for r in rows if r["control_id"] == "CC7.5")["latest_run"] == RUN_B


def test_the_freshness_audit_ignores_runs_after_its_moment(runs_dir: Path) -> None:
    runs = load_runs(runs_dir)
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    rows = {r.control_id: r for r in audit(runs, runs[-1].catalog(), moment)}
    assert rows["CC7.5"].latest_run == RUN_B
    assert all(r.age_days is None or r.age_days >= 0 for r in rows.values())


def test_a_period_that_ends_before_it_starts_is_refused(runs_dir: Path, signed: Path) -> None:
    result = runner.invoke(
        evidence_app,
        [
            "audit",
            str(runs_dir),
            "--public-key",
            str(signed),
            "--from",
            "2026-12-01",
            "--to",
            "2026-11-01",
        ],
    )
    assert result.exit_code == 2
    assert "is not before the end of the period" in result.output
