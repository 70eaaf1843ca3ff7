"""`assay evidence …`: build, verify, audit and publish evidence packs; make a signing key."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assay.signing import KEY_ENV, SigningError

if TYPE_CHECKING:
    from assay.trust import Trust
    from evidence.audit import ControlAudit
    from evidence.period import ControlPeriod, Verified

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
    from assay.audit_anchor import AnchorError
    from assay.record import RunError, load_run
    from assay.signing import configured_signer
    from evidence.oscal import OscalError
    from evidence.pack import build_pack

    try:
        signer = configured_signer(key)
        pack = build_pack(load_run(run), signer, out)
    except (RunError, SigningError, OscalError, AnchorError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"pack      {pack.archive}  ({pack.items} items)")
    typer.echo(f"manifest  {pack.manifest}")
    typer.echo(f"signature {pack.envelope}")
    typer.echo(f"oscal     {pack.oscal}")
    typer.echo(f"signed by key {signer.key_id} ({signer.origin.value}: {signer.source})")


KeyIdOption = Annotated[
    list[str] | None,
    typer.Option("--key-id", help="Expected signing key id (sha256 of the public key, hex)."),
]
PublicKeyOption = Annotated[
    Path | None, typer.Option("--public-key", help="Expected signing key (PEM).")
]
DevOption = Annotated[
    bool, typer.Option("--dev", help="Accept development-signed packs (integrity only).")
]


def _expected_key(key_id: list[str] | None, public_key: Path | None, dev: bool) -> Trust:
    """The key a pack must be signed with: --key-id/--public-key, else ASSAY_SIGNING_KEY's."""
    from assay.signing import configured_signer, load_public_key
    from assay.trust import Trust

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
    return Trust.pinned(*pins, configured, public=public, allow_dev=dev)


@evidence_app.command()
def verify(
    path: Annotated[
        Path,
        typer.Argument(help="An evidence pack (.zip), or a signed folder such as RUN/reports."),
    ],
    key_id: KeyIdOption = None,
    public_key: PublicKeyOption = None,
    dev: DevOption = False,
) -> None:
    """Check the signer, the signature and every digest; name each file altered, added, removed.

    The expected key comes from --key-id / --public-key, else from ASSAY_SIGNING_KEY; a pack
    signed by any other key fails. The key found in the pack is always printed.
    """
    from assay.trust import verify_folder
    from evidence.verify import verify_pack

    if not path.exists():
        raise _fail(f"{path}: no such pack or folder")
    trust = _expected_key(key_id, public_key, dev)
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


def _moment(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} {value!r}: not an ISO date/time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@evidence_app.command()
def audit(
    runs_dir: Annotated[Path, typer.Argument(help="A runs directory (holds runs/<run_id>/).")],
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Judge at this ISO time; later runs never count. Default: --to, else now."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="Report the period from this ISO date: runs, gaps, failures."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="End of the period (default: --as-of, else now).")
    ] = None,
    key_id: KeyIdOption = None,
    public_key: PublicKeyOption = None,
    dev: DevOption = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any control is flagged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Each control's evidence, read only from packs whose signature verifies.

    Without --from: the latest passing evidence as of a moment (none, failing or stale are
    flagged). With --from/--to: every run in the period with its result, gaps longer than the
    control's frequency (freshness_days), and failures. Runs without a verifying pack, and
    runs that cannot be read, are named and skipped.
    """
    from assay.record import RunError
    from evidence.audit import audit as run_audit
    from evidence.period import period_audit, verified_runs

    end = _moment("--to", until)
    moment = _moment("--as-of", as_of) or end or datetime.now(UTC)
    start = _moment("--from", since)
    end = min(end or moment, moment)
    if start is not None and start >= end:
        raise _fail(f"--from {since} is not before the end of the period {end.isoformat()}")
    trust = _expected_key(key_id, public_key, dev)
    try:
        with verified_runs(runs_dir, trust, moment) as found:
            for skipped in found.unread:
                typer.secho(f"skipped {skipped.run}: {skipped.reason}", err=True, fg="yellow")
            if found.later:
                typer.echo(
                    f"not counted (after {moment.isoformat()}): {len(found.later)} runs", err=True
                )
            if not found.runs:
                raise _fail(
                    f"{runs_dir}: no run with a verified evidence pack by {moment.isoformat()}"
                )
            catalog = found.runs[-1].catalog()
            if start is not None:
                periods = period_audit(found.runs, catalog, start, end)
                flagged = _print_period(periods, as_json, found)
                total = len(periods)
            else:
                rows = run_audit(found.runs, catalog, moment)
                flagged = _print_freshness(rows, as_json, found)
                total = len(rows)
    except RunError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{flagged} of {total} controls flagged", err=True)
    if strict and flagged:
        raise typer.Exit(1)


def _print_freshness(rows: list[ControlAudit], as_json: bool, found: Verified) -> int:
    if as_json:
        typer.echo(json.dumps([_audit_dict(r) for r in rows], indent=2))
    else:
        typer.echo(f"{'control':8} {'status':8} {'fresh':>5} {'age':>6}  latest passing run")
        for r in rows:
            age = f"{r.age_days:.1f}" if r.age_days is not None else "-"
            line = f"{r.control_id:8} {r.status.value:8} {r.freshness_days:>5} {age:>6}  "
            typer.secho(line + (r.latest_passing_run or "-"), fg="red" if r.flagged else None)
    return sum(r.flagged for r in rows)


def _audit_dict(row: object) -> dict[str, object]:
    data = dict(vars(row))
    data["status"] = str(data["status"])
    at = data["latest_passing_at"]
    data["latest_passing_at"] = at.isoformat() if isinstance(at, datetime) else None
    return data


def _print_period(periods: list[ControlPeriod], as_json: bool, found: Verified) -> int:
    if as_json:
        document = {
            "controls": [_period_dict(p) for p in periods],
            "skipped": [{"run": u.run, "reason": u.reason} for u in found.unread],
            "not_counted_after_as_of": found.later,
        }
        typer.echo(json.dumps(document, indent=2))
        return sum(p.flagged for p in periods)
    for p in periods:
        head = f"{p.control_id} {p.title} (every {p.frequency_days} days): {len(p.runs)} runs"
        head += f", {len(p.gaps)} gaps, {len(p.failures)} failures"
        typer.secho(head, fg="red" if p.flagged else None, bold=True)
        for r in p.runs:
            typer.secho(
                f"  {r.at:%Y-%m-%d %H:%M} {r.run_id}  {r.state}", fg="red" if r.failed else None
            )
        for g in p.gaps:
            typer.secho(f"  gap {g.start:%Y-%m-%d} .. {g.end:%Y-%m-%d} ({g.days} days)", fg="red")
    return sum(p.flagged for p in periods)


def _period_dict(period: ControlPeriod) -> dict[str, object]:
    return {
        "control_id": period.control_id,
        "title": period.title,
        "frequency_days": period.frequency_days,
        "runs": [
            {"run_id": r.run_id, "at": r.at.isoformat(), "result": str(r.state), "reason": r.reason}
            for r in period.runs
        ],
        "gaps": [
            {"from": g.start.isoformat(), "to": g.end.isoformat(), "days": g.days}
            for g in period.gaps
        ],
        "failures": [r.run_id for r in period.failures],
        "flagged": period.flagged,
    }


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


@evidence_app.command("anchor-check")
def anchor_check(
    run: Annotated[Path, typer.Argument(help="The run directory whose audit head to check.")],
    target_url: Annotated[str, typer.Option(help="The live target's base URL.")],
    admin_email: Annotated[
        str, typer.Option(envvar="ASSAY_ADMIN_EMAIL", help="The target's admin account.")
    ] = "admin@example.com",
) -> None:
    """Compare the target's live audit chain with RUN's anchored head (password from
    ASSAY_ADMIN_PASSWORD); name truncation, rewriting or a broken chain, exit 1."""
    import httpx

    from assay.audit_anchor import HTTP_TIMEOUT_S, AnchorError, check_run

    password = os.environ.get("ASSAY_ADMIN_PASSWORD", "")
    if not password:
        raise _fail("ASSAY_ADMIN_PASSWORD must name the target's admin password")
    try:
        with httpx.Client(base_url=target_url, timeout=HTTP_TIMEOUT_S) as client:
            result = check_run(run, client, admin_email, password)
    except AnchorError as exc:
        raise _fail(str(exc)) from None
    line = f"audit chain {result.status}: {result.detail}"
    if not result.ok:
        typer.secho(line, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(line)


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
