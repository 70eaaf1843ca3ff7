"""`assay evidence …`: build, verify, audit and publish evidence packs; make a signing key."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from assay.signing import KEY_ENV, SigningError

evidence_app = typer.Typer(
    name="evidence",
    help="Signed, hash-manifested evidence packs mapped to controls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@evidence_app.command()
def build(
    run: Annotated[Path, typer.Argument(help="The run directory (runs/<run_id>).")],
    key: Annotated[
        Path | None, typer.Option(help=f"Ed25519 private key (PEM); default: ${KEY_ENV}.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: RUN/evidence.")] = None,
) -> None:
    """Build RUN's signed evidence pack, manifest and OSCAL assessment results."""
    from assay.record import RunError, load_run
    from assay.signing import configured_signer
    from evidence.oscal import OscalError
    from evidence.pack import build_pack

    try:
        signer = configured_signer(key)
        pack = build_pack(load_run(run), signer, out)
    except (RunError, SigningError, OscalError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"pack      {pack.archive}  ({pack.items} items)")
    typer.echo(f"manifest  {pack.manifest}")
    typer.echo(f"signature {pack.envelope}")
    typer.echo(f"oscal     {pack.oscal}")
    typer.echo(f"signed by key {signer.key_id} ({signer.origin.value}: {signer.source})")


@evidence_app.command()
def verify(
    path: Annotated[
        Path,
        typer.Argument(help="An evidence pack (.zip), or a signed folder such as RUN/reports."),
    ],
    key_id: Annotated[
        list[str] | None,
        typer.Option("--key-id", help="Expected signing key id (sha256 of the public key, hex)."),
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="Expected signing key (PEM).")
    ] = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Accept a development-signed pack (integrity only).")
    ] = False,
) -> None:
    """Check the signer, the signature and every digest; name each file altered, added, removed.

    The expected key comes from --key-id / --public-key, else from ASSAY_SIGNING_KEY; a pack
    signed by any other key fails. The key found in the pack is always printed.
    """
    from assay.signing import configured_signer, load_public_key
    from assay.trust import Trust, verify_folder
    from evidence.verify import verify_pack

    if not path.exists():
        raise _fail(f"{path}: no such pack or folder")
    # An empty --key-id (an unset CI variable) pins nothing; the configured key then does.
    pins = [i for i in key_id or [] if i.strip()]
    try:
        public = load_public_key(public_key) if public_key else None
        configured = (
            configured_signer().key_id
            if not (pins or public_key) and os.environ.get(KEY_ENV, "").strip()
            else None
        )
    except SigningError as exc:
        raise _fail(str(exc)) from None
    trust = Trust.pinned(*pins, configured, public=public, allow_dev=dev)
    if path.is_dir():
        checked = verify_folder(path, trust)
        signed_by, problems, files = checked.signed_by, checked.problems, None
    else:
        result = verify_pack(path, trust)
        signed_by, problems, files = (
            result.signed_by,
            [str(f) for f in result.findings],
            result.files,
        )
    typer.echo(f"signed by: {signed_by}" if signed_by else "signed by: no signer recorded")
    if trust.key_ids:
        typer.echo(f"expected:  key {', '.join(sorted(trust.key_ids))}")
    for problem in problems:
        typer.secho(problem, fg=typer.colors.RED)
    if problems:
        raise _fail(f"{path.name}: verification FAILED ({len(problems)} problems)", 1)
    what = f"{files} files" if files is not None else "every file"
    dev_note = (
        " (development key: proves integrity, not who signed)"
        if signed_by and signed_by.origin == "development"
        else ""
    )
    typer.echo(f"{path.name}: OK, signature valid, {what} match their digests{dev_note}")


@evidence_app.command()
def audit(
    runs_dir: Annotated[Path, typer.Argument(help="A runs directory (holds runs/<run_id>/).")],
    as_of: Annotated[
        str | None, typer.Option(help="Judge freshness at this ISO time; default: now.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any control is flagged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List each control's latest passing evidence; flag none, failing or stale."""
    from assay.record import RunError, load_runs
    from evidence.audit import audit as run_audit

    try:
        moment = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    except ValueError:
        raise _fail(f"--as-of {as_of!r}: not an ISO date/time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        runs = load_runs(runs_dir)
        rows = run_audit(runs, runs[-1].catalog(), moment)
    except RunError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([_audit_dict(r) for r in rows], indent=2))
    else:
        typer.echo(f"{'control':8} {'status':8} {'fresh':>5} {'age':>6}  latest passing run")
        for r in rows:
            age = f"{r.age_days:.1f}" if r.age_days is not None else "-"
            line = f"{r.control_id:8} {r.status.value:8} {r.freshness_days:>5} {age:>6}  "
            typer.secho(line + (r.latest_passing_run or "-"), fg="red" if r.flagged else None)
    flagged = sum(r.flagged for r in rows)
    typer.echo(f"{flagged} of {len(rows)} controls flagged", err=True)
    if strict and flagged:
        raise typer.Exit(1)


def _audit_dict(row: object) -> dict[str, object]:
    data = dict(vars(row))
    data["status"] = str(data["status"])
    at = data["latest_passing_at"]
    data["latest_passing_at"] = at.isoformat() if isinstance(at, datetime) else None
    return data


@evidence_app.command()
def publish(
    pack: Annotated[Path, typer.Argument(help="An evidence pack (.zip).")],
    bucket: Annotated[str, typer.Option(help="S3 bucket with Object Lock enabled.")],
    prefix: Annotated[str, typer.Option(help="Key prefix.")] = "evidence",
    kms_key_id: Annotated[str | None, typer.Option(help="Use SSE-KMS with this key.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="S3 endpoint (default: AWS, or $AWS_ENDPOINT_URL).")
    ] = None,
) -> None:
    """Upload PACK to S3 with COMPLIANCE-mode Object Lock and server-side encryption."""
    import boto3

    from evidence.publish import PublishError, describe
    from evidence.publish import publish as upload

    if not pack.is_file():
        raise _fail(f"{pack}: no such pack")
    client = boto3.client("s3", endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    try:
        published = upload(pack, bucket, prefix=prefix, kms_key_id=kms_key_id, client=client)
    except PublishError as exc:
        raise _fail(str(exc)) from None
    typer.echo(describe(published))


@evidence_app.command()
def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the private key.")] = Path(
        "assay-signing.key"
    ),
) -> None:
    """Make an Ed25519 signing key (PATH) and its public key (PATH.pub)."""
    from assay.signing import generate_key

    try:
        private, public = generate_key(path)
    except (SigningError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"private key {private} (keep secret; export {KEY_ENV}={private})")
    typer.echo(f"public key  {public}")


def main() -> None:
    """Run the evidence commands on their own (`python -m evidence`)."""
    evidence_app(prog_name="python -m evidence")
