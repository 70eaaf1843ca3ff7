"""Every `assay` command the CI workflows run is run here, so none can call a missing command."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from assay.signing import generate_key, key_id, load_public_key
from assay.target import format_ledgers
from evidence.publish import pack_manifest
from infra.local.stack import provisioned_stack
from tests.fixtures.runs.make_runs import HERE as FIXTURE_RUNS
from tests.fixtures.runs.make_runs import RUN_B

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
BUCKET = "evidence-locked"


def assay_commands(workflow: Path) -> list[str]:
    """The `assay …` lines of every step's `run:` script, continuation lines joined."""
    document = yaml.safe_load(workflow.read_text())
    commands = []
    for job in document["jobs"].values():
        for step in job.get("steps", []):
            script = step.get("run", "").replace("\\\n", " ")
            for line in script.splitlines():
                if line.strip().startswith("assay "):
                    commands.append(line.strip())
    return commands


ALL = {w.name: assay_commands(w) for w in sorted(WORKFLOWS.glob("*.yml"))}


def bash(
    command: str, cwd: Path, env: dict[str, str], timeout_s: float
) -> subprocess.CompletedProcess[str]:
    """One workflow `run:` line as GitHub runs it (bash, stop on the first failure)."""
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_every_workflow_signs_and_verifies_its_evidence() -> None:
    assert set(ALL) == {"nightly-perf.yml", "pr-gate.yml", "release.yml", "weekly-chaos.yml"}
    for name, commands in ALL.items():
        verbs = {tuple(shlex.split(c)[:3]) for c in commands}
        assert ("assay", "evidence", "build") in verbs, name
        assert ("assay", "evidence", "verify") in verbs, name
        # Values reach commands through the step's env, which this test can set.
        assert not [c for c in commands if "${{" in c], name
    assert any(c.startswith("assay evidence publish") for c in ALL["release.yml"])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for this module only."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def ci(tmp_path: Path, s3_endpoint: str) -> dict[str, str]:
    """A CI job's environment: the run, the configured key and its id, the bucket, S3."""
    shutil.copytree(
        FIXTURE_RUNS / RUN_B,
        tmp_path / "runs" / RUN_B,
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )
    private, public = generate_key(tmp_path / "ci.key")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "ASSAY_RUN_ID": RUN_B,
        "ASSAY_SIGNING_KEY": private.read_text(),  # as the CI secret holds it
        "ASSAY_SIGNING_KEY_ID": key_id(load_public_key(public)),
        "EVIDENCE_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("ASSAY_RUNS_DIR", None)
    s3 = _s3(s3_endpoint)
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    return env


def test_each_assay_command_of_the_workflows_runs(ci: dict[str, str], tmp_path: Path) -> None:
    # First-seen order; `assay run` needs a target: the nightly's runs against a stack below.
    commands = [
        c
        for c in dict.fromkeys(c for cs in ALL.values() for c in cs)
        if not c.startswith("assay run ")
    ]
    assert len(commands) >= 4
    for command in commands:
        result = bash(command, tmp_path, ci, timeout_s=300)
        users = [name for name, cs in ALL.items() if command in cs]
        assert result.returncode == 0, f"{users}: {command}\n{result.stdout}\n{result.stderr}"
        if command.startswith("assay evidence verify"):
            assert f"signed by: key {ci['ASSAY_SIGNING_KEY_ID']} (configured" in result.stdout

    # The release upload went through `assay evidence publish`: locked for what the manifest says.
    pack = tmp_path / "runs" / RUN_B / "evidence" / f"{RUN_B}.evidence.zip"
    manifest, _ = pack_manifest(pack)
    days = max(item.retention_days for item in manifest.items)
    assert days == 1095
    s3 = _s3(ci["AWS_ENDPOINT_URL"])
    head = s3.head_object(Bucket=BUCKET, Key=f"evidence/{RUN_B}/{pack.name}")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    locked: datetime = head["ObjectLockRetainUntilDate"]
    assert round((locked - head["LastModified"]).total_seconds() / 86400) == days
    body = s3.get_object(Bucket=BUCKET, Key=f"evidence/{RUN_B}/{pack.name}")["Body"].read()
    assert body == pack.read_bytes()


def _workflow_env(workflow: str) -> dict[str, str]:
    """The workflow's own `env:` values that are not GitHub expressions."""
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return {k: str(v) for k, v in document.get("env", {}).items() if "${{" not in str(v)}


@pytest.mark.slow
@pytest.mark.exclusive
def test_the_nightly_runs_its_commands_against_staging_with_the_load_token(
    ci: dict[str, str], tmp_path: Path
) -> None:
    """The nightly's `assay` commands, in order, against a provisioned stack (PostgreSQL,
    Redis, gunicorn, gateways) standing in for staging, with the variables and secrets the
    workflow reads. Its per-client ceiling is far below what the run sends: only the load
    token lets the run through, and the run's own customers still meet the per-user limit."""
    token = secrets.token_urlsafe(32)
    settings = {"RATE_LIMIT_PER_CLIENT": "30/minute", "RATE_LIMIT_EXEMPT_TOKEN": token}
    with provisioned_stack(tmp_path / "stack.json", settings=settings) as stack:
        env = {
            **ci,
            **_workflow_env("nightly-perf.yml"),
            # What the repository's variables and secrets hold for staging:
            "ASSAY_TARGET_URL": stack.service_url,
            "ASSAY_GATEWAY_LEDGERS": format_ledgers(stack.ledgers),
            "ASSAY_ADMIN_EMAIL": stack.admin["email"],
            "ASSAY_ADMIN_PASSWORD": stack.admin["password"],
            "ASSAY_PERF_EXEMPT_TOKEN": token,
            "ASSAY_RUN_ID": "perf-4242-1",
            "ASSAY_PERF_SHAPE": "smoke",  # the workflow's sustained takes 5 minutes
        }
        assert _workflow_env("nightly-perf.yml")["ASSAY_PERF_SHAPE"] == "sustained"
        for command in ALL["nightly-perf.yml"]:
            result = bash(command, tmp_path, env, timeout_s=600)
            assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr}"
    run = tmp_path / "runs" / "perf-4242-1"
    summary = json.loads((run / "perf" / "summary.json").read_text())
    assert json.loads((run / "run.json").read_text())["target"]["url"] == stack.service_url
    # Every request went through, far more than the ceiling lets one address send: a 429
    # fails a request and voids the run (perf/gate.py).
    assert summary["metrics"]["failures"] == 0, summary["notes"]
    assert summary["metrics"]["requests"] > 60
    assert summary["verdict"] == "pass", summary["notes"]
