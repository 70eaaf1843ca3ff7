"""Reports as evidence: every path/digest pair in the CSV recomputes; the folder is signed."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.signing import generate_key, key_id, load_public_key
from evidence.cli import evidence_app
from reports.cli import report_app
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C

pytestmark = pytest.mark.req("REQ-EVD-001")
runner = CliRunner()


@pytest.fixture
def org_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The configured signing key (ASSAY_SIGNING_KEY); returns its key id."""
    private, public = generate_key(tmp_path / "org.key")
    monkeypatch.setenv("ASSAY_SIGNING_KEY", str(private))
    return key_id(load_public_key(public))


@pytest.mark.parametrize("run_id", [RUN_A, RUN_B, RUN_C])
def test_every_traceability_digest_recomputes_from_the_run_files(
    runs_dir: Path, org_key: str, run_id: str
) -> None:
    run = runs_dir / run_id
    result = runner.invoke(report_app, [str(run)])
    assert result.exit_code == 0, result.output
    with (run / "reports" / "traceability.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    pairs = 0
    for row in rows:
        paths = row["evidence_paths"].split(";")
        digests = row["evidence_sha256"].split(";")
        assert len(paths) == len(digests), row
        for path, digest in zip(paths, digests, strict=True):
            actual = hashlib.sha256((run / path).read_bytes()).hexdigest()
            assert actual == digest, f"{row['check_id']}: {path}"
            pairs += 1
    assert pairs > len(rows)  # rows citing several files are among them


def test_the_reports_are_signed_and_verify_with_the_configured_key(
    runs_dir: Path, org_key: str
) -> None:
    run = runs_dir / RUN_B
    assert runner.invoke(evidence_app, ["build", str(run)]).exit_code == 0
    assert runner.invoke(report_app, [str(run)]).exit_code == 0
    result = runner.invoke(evidence_app, ["verify", str(run / "reports"), "--key-id", org_key])
    assert result.exit_code == 0, result.output
    assert f"signed by: key {org_key} (configured" in result.output
    assert "reports: OK, signature valid" in result.output


def test_an_edited_report_fails_verification_naming_it(runs_dir: Path, org_key: str) -> None:
    run = runs_dir / RUN_B
    assert runner.invoke(report_app, [str(run)]).exit_code == 0
    csv_path = run / "reports" / "traceability.csv"
    csv_path.write_text(csv_path.read_text().replace(",fail,", ",pass,"))
    (run / "reports" / "extra.html").write_text("<p>all green</p>")
    result = runner.invoke(evidence_app, ["verify", str(run / "reports"), "--key-id", org_key])
    assert result.exit_code == 1
    assert "altered: traceability.csv" in result.output
    assert "added: extra.html" in result.output


def test_reports_signed_by_another_key_fail_the_pinned_key(
    runs_dir: Path, org_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other, _ = generate_key(tmp_path / "other.key")
    monkeypatch.setenv("ASSAY_SIGNING_KEY", str(other))
    assert runner.invoke(report_app, [str(runs_dir / RUN_B)]).exit_code == 0
    result = runner.invoke(
        evidence_app, ["verify", str(runs_dir / RUN_B / "reports"), "--key-id", org_key]
    )
    assert result.exit_code == 1
    assert f"not the expected key {org_key}" in result.output
