"""Who signed a pack: named inside what is signed, printed by verify, pinned by the verifier."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from assay.signing import DEV_KEY, Origin, Signer, generate_key, key_id, load_public_key
from assay.trust import Trust, check_statement
from evidence.cli import evidence_app
from evidence.generator import build as generate
from evidence.pack import ENVELOPE, Pack, pack_name
from evidence.verify import verify_pack
from tests.fixtures.runs.make_runs import RUN_B

pytestmark = pytest.mark.req("REQ-EVD-001")
runner = CliRunner()


def _key(folder: Path, name: str) -> tuple[Path, str]:
    private, public = generate_key(folder / name)
    return private, key_id(load_public_key(public))


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The organisation's key, configured through ASSAY_SIGNING_KEY; and its key id."""
    (tmp_path / "keys").mkdir()
    path, ident = _key(tmp_path / "keys", "org.key")
    monkeypatch.setenv("ASSAY_SIGNING_KEY", str(path))
    return path, ident


def _pack(runs_dir: Path) -> Path:
    return runs_dir / RUN_B / "evidence" / pack_name(RUN_B)


def test_a_doctored_run_resigned_with_another_key_fails_the_pinned_key(
    runs_dir: Path, configured: tuple[Path, str], tmp_path: Path
) -> None:
    _, org_id = configured
    built = runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    assert built.exit_code == 0, built.output
    assert f"signed by key {org_id} (configured" in built.output
    # The tamperer turns the failing perf suite green and re-signs with a key of their own.
    summary = runs_dir / RUN_B / "perf" / "summary.json"
    doctored = json.loads(summary.read_text())
    doctored["verdict"] = "pass"
    summary.write_text(json.dumps(doctored))
    own, own_id = _key(tmp_path / "keys", "mine.key")
    resigned = runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B), "--key", str(own)])
    assert resigned.exit_code == 0, resigned.output

    result = runner.invoke(evidence_app, ["verify", str(_pack(runs_dir)), "--key-id", org_id])
    assert result.exit_code == 1, result.output
    assert f"signed by key {own_id}, not the expected key {org_id}" in result.output
    assert "verification FAILED" in result.output
    # With no option, the configured key (ASSAY_SIGNING_KEY) is the one expected.
    default = runner.invoke(evidence_app, ["verify", str(_pack(runs_dir))])
    assert default.exit_code == 1
    assert f"not the expected key {org_id}" in default.output


def test_verify_prints_the_key_it_found_and_its_origin(
    runs_dir: Path, configured: tuple[Path, str]
) -> None:
    path, org_id = configured
    runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    for pin in (["--key-id", f"sha256:{org_id.upper()}"], ["--public-key", f"{path}.pub"]):
        result = runner.invoke(evidence_app, ["verify", str(_pack(runs_dir)), *pin])
        assert result.exit_code == 0, result.output
        assert f"signed by: key {org_id} (configured: $ASSAY_SIGNING_KEY file {path})" in (
            result.output
        )
        assert "OK, signature valid" in result.output


def test_a_public_key_pin_of_another_key_fails(
    runs_dir: Path, configured: tuple[Path, str], tmp_path: Path
) -> None:
    runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    _, other_id = _key(tmp_path / "keys", "other.key")
    other_pub = tmp_path / "keys" / "other.key.pub"
    result = runner.invoke(
        evidence_app, ["verify", str(_pack(runs_dir)), "--public-key", str(other_pub)]
    )
    assert result.exit_code == 1
    assert f"not the expected key {other_id}" in result.output


def test_the_key_may_be_the_pem_itself_as_a_ci_secret(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, ident = _key(tmp_path, "ci.key")
    monkeypatch.setenv("ASSAY_SIGNING_KEY", path.read_text())
    built = runner.invoke(evidence_app, ["build", str(runs_dir / RUN_B)])
    assert built.exit_code == 0, built.output
    result = runner.invoke(evidence_app, ["verify", str(_pack(runs_dir)), "--key-id", ident])
    assert result.exit_code == 0, result.output
    assert "(configured: $ASSAY_SIGNING_KEY (PEM))" in result.output


def test_a_development_signed_pack_says_so_and_needs_dev(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    generate(runs_dir / RUN_B)  # what `assay run` does without a configured key
    dev_id = key_id(load_public_key(runs_dir / DEV_KEY))
    envelope = json.loads(zipfile.ZipFile(_pack(runs_dir)).read(ENVELOPE))
    checked = check_statement(
        envelope, Trust(allow_dev=True), "https://assay.dev/evidence-manifest/v1"
    )
    assert checked.signed_by is not None
    assert (checked.signed_by.origin, checked.signed_by.key_id) == ("development", dev_id)

    refused = runner.invoke(evidence_app, ["verify", str(_pack(runs_dir)), "--key-id", dev_id])
    assert refused.exit_code == 1
    assert f"signed by: key {dev_id} (development" in refused.output
    assert "pass --dev to accept development evidence" in refused.output
    accepted = runner.invoke(
        evidence_app, ["verify", str(_pack(runs_dir)), "--key-id", dev_id, "--dev"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "development key: proves integrity, not who signed" in accepted.output


def test_with_nothing_to_expect_verify_fails_and_says_what_to_pass(
    pack: Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    result = runner.invoke(evidence_app, ["verify", str(pack.archive)])
    assert result.exit_code == 1
    assert f"signed by: key {pack.signer.key_id} (configured: test key)" in result.output
    assert "no expected key: pass --key-id or --public-key" in result.output


def test_a_signer_block_naming_another_key_than_the_signature_fails(
    run_b_signed_by_a_liar: Path,
) -> None:
    result = verify_pack(run_b_signed_by_a_liar, Trust(allow_dev=True))
    assert any("does not verify with the named key" in f.detail for f in result.findings)


@pytest.fixture
def run_b_signed_by_a_liar(pack: Pack, tmp_path: Path) -> Path:
    """The pack re-signed by key B while its statement still names key A as the signer."""
    from assay.signing import open_envelope, sign_envelope

    envelope = json.loads(pack.envelope.read_bytes())
    _, payload, _ = open_envelope(envelope)
    liar = Signer(Ed25519PrivateKey.generate(), Origin.CONFIGURED, "liar")
    forged = json.dumps(sign_envelope(payload, liar.key)).encode()
    out = tmp_path / "forged.zip"
    with zipfile.ZipFile(pack.archive) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, forged if name == ENVELOPE else source.read(name))
    return out
