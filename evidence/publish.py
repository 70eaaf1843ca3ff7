"""Publish a pack to S3 under Object Lock (compliance mode) with server-side encryption."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from evidence.manifest import Manifest
from evidence.pack import ENVELOPE, MANIFEST


class PublishError(Exception):
    """The pack cannot be published as asked."""


@dataclass(frozen=True)
class Published:
    """Where each object went and until when it is locked."""

    bucket: str
    keys: list[str]
    retain_until: datetime
    version_ids: list[str]


def pack_manifest(pack: Path) -> tuple[Manifest, bytes]:
    """The manifest and attestation bytes stored inside a pack."""
    try:
        with zipfile.ZipFile(pack) as archive:
            manifest = Manifest.model_validate_json(archive.read(MANIFEST))
            envelope = archive.read(ENVELOPE)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise PublishError(f"{pack}: not an evidence pack: {exc}") from exc
    return manifest, envelope


def retain_until(manifest: Manifest, now: datetime) -> datetime:
    """Lock until the longest retention any item's controls require (catalog retention_days)."""
    days = max((item.retention_days for item in manifest.items), default=365)
    return now + timedelta(days=days)


def publish(
    pack: Path,
    bucket: str,
    *,
    prefix: str = "evidence",
    kms_key_id: str | None = None,
    client: Any = None,
    now: datetime | None = None,
) -> Published:
    """Upload the pack and its attestation with COMPLIANCE-mode retention and SSE."""
    manifest, envelope = pack_manifest(pack)
    s3 = client or boto3.client("s3")
    until = retain_until(manifest, now or datetime.now(UTC))
    try:
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        raise PublishError(
            f"bucket {bucket}: Object Lock is not enabled or not readable: {exc}"
        ) from exc
    except BotoCoreError as exc:
        raise PublishError(f"bucket {bucket}: cannot reach S3: {exc}") from exc
    if lock.get("ObjectLockEnabled") != "Enabled":
        raise PublishError(f"bucket {bucket}: Object Lock is not enabled")
    encryption: dict[str, str] = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        if kms_key_id
        else {"ServerSideEncryption": "AES256"}
    )
    base = f"{prefix.strip('/')}/{manifest.run_id}" if prefix.strip("/") else manifest.run_id
    objects = [
        (f"{base}/{pack.name}", pack.read_bytes(), "application/zip"),
        (f"{base}/{ENVELOPE}", envelope, "application/vnd.in-toto+json"),
    ]
    versions = []
    for key, body, kind in objects:
        try:
            response = s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=kind,
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=until,
                ChecksumAlgorithm="SHA256",
                Metadata={"run-id": manifest.run_id, "git-commit": manifest.git_commit or ""},
                **encryption,
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"s3://{bucket}/{key}: upload failed: {exc}") from exc
        versions.append(str(response.get("VersionId", "")))
    return Published(
        bucket=bucket, keys=[k for k, _, _ in objects], retain_until=until, version_ids=versions
    )


def describe(published: Published) -> str:
    """A short JSON description for the command line."""
    return json.dumps(
        {
            "bucket": published.bucket,
            "keys": published.keys,
            "retain_until": published.retain_until.isoformat(),
            "version_ids": published.version_ids,
        },
        indent=2,
    )
