"""Publishing to S3 with Object Lock (compliance mode) and SSE, against a loopback moto server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from evidence.pack import ENVELOPE, Pack
from evidence.publish import PublishError, publish


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for this module only."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client for the moto server (dummy credentials; nothing leaves the machine)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


def _locked_bucket(s3: Any, name: str) -> str:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_pack_is_uploaded_under_compliance_lock_with_sse(s3: Any, pack: Pack) -> None:
    bucket = _locked_bucket(s3, "evidence-locked")
    now = datetime(2026, 11, 19, 7, tzinfo=UTC)
    published = publish(pack.archive, bucket, client=s3, now=now)
    assert published.keys == [
        f"evidence/20261119T060000Z-b7e210/{pack.archive.name}",
        f"evidence/20261119T060000Z-b7e210/{ENVELOPE}",
    ]
    assert published.retain_until == now + timedelta(days=1095)  # longest catalog retention
    for key in published.keys:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == published.retain_until
        assert head["ServerSideEncryption"] == "AES256"
    body = s3.get_object(Bucket=bucket, Key=published.keys[0])["Body"].read()
    assert body == pack.archive.read_bytes()


def test_locked_objects_cannot_be_deleted(s3: Any, pack: Pack) -> None:
    bucket = _locked_bucket(s3, "evidence-nodelete")
    published = publish(pack.archive, bucket, client=s3)
    version = published.version_ids[0]
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=published.keys[0], VersionId=version)


def test_a_bucket_without_object_lock_is_refused(s3: Any, pack: Pack) -> None:
    s3.create_bucket(Bucket="evidence-plain")
    with pytest.raises(PublishError, match="Object Lock"):
        publish(pack.archive, "evidence-plain", client=s3)
    assert s3.list_objects_v2(Bucket="evidence-plain").get("KeyCount") == 0


def test_a_file_that_is_not_a_pack_is_refused(s3: Any, tmp_path: Any) -> None:
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"nope")
    with pytest.raises(PublishError, match="not an evidence pack"):
        publish(bogus, _locked_bucket(s3, "evidence-bogus"), client=s3)
