"""The contract suite end to end, with a small budget: in-process, and against a served service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.run import Run
from assay.summary import Verdict
from assay.target import Credentials, Target, TargetKind, free_port, wait_ready
from contracts.live import CUSTOMER_PASSWORD
from contracts.suite import JUNIT, run_contract, run_schemathesis

pytestmark = [pytest.mark.req("REQ-API-001"), pytest.mark.slow]
SMALL_BUDGET = {"ASSAY_CONTRACT_MAX_EXAMPLES": "3", "ASSAY_CONTRACT_STATEFUL_EXAMPLES": "15"}
ADMIN = Credentials("admin@example.com", "admin-password-change-me")
COMMITTED_SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "openapi.json"


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SMALL_BUDGET.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ASSAY_CONTRACT_TRANSPORT", raising=False)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`python -m reference_service serve --prepare` on a free port; always terminated."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        "PYTHONUNBUFFERED": "1",
        # The development admin (ADMIN above) is seeded only when development is chosen.
        "APP_ENV": "development",
        # Deployed as a contract target is (README): fuzzed logins all come from loopback, so
        # the per-address failed-login budget is lifted, or the journey's registration is a 429.
        "RATE_LIMIT_LOGIN_FAILURES_PER_CLIENT": "100000/minute",
        # Deployed as production is: no fault injection, so the admin can fuzz every
        # operation, the fault flags included (403 fault-injection-disabled, ADR-016).
        "FAULT_INJECTION": "false",
    }
    for name in ("REDIS_URL", "PAYMENT_GATEWAY_URL", "ASSAY_TARGET_URL"):
        env.pop(name, None)
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_service", "serve", "--prepare", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, timeout_s=60.0, process=process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def failures(junit: Path) -> list[str]:
    root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest output
    return [
        f"{case.get('name')}: {(node.text or '')[-2000:]}"
        for case in root.iter("testcase")
        for node in (case.find("failure"), case.find("error"))
        if node is not None
    ]


@pytest.mark.usefixtures("small_budget")
def test_in_process_run_of_a_managed_target_finds_nothing(tmp_path: Path) -> None:
    target = Target("http://unused.invalid", TargetKind.MANAGED, admin=ADMIN)
    code, _ = run_schemathesis(tmp_path, target, dict(os.environ))
    assert failures(tmp_path / JUNIT) == []
    assert code == 0
    assert (tmp_path / "schemathesis.har").stat().st_size > 0
    assert failures(tmp_path / "schemathesis-junit.xml") == []
    report = ET.parse(tmp_path / "schemathesis-junit.xml").getroot()  # noqa: S314 - ours
    assert "POST /orders" in {case.get("name") for case in report.iter("testcase")}


@pytest.mark.usefixtures("small_budget")
def test_suite_runs_unchanged_against_a_separately_started_service(
    tmp_path: Path, served: str
) -> None:
    run = Run.create(tmp_path / "runs")
    summary = run_contract(run, Target(served, TargetKind.REMOTE, admin=ADMIN))
    out = run.directory / "contract"
    assert failures(out / JUNIT) == []
    assert summary.verdict is Verdict.PASS, [c.message for c in summary.checks if c.message]
    assert summary.metrics["transport"] == "http"
    assert summary.metrics["seed"] == 20261126
    assert {"contract/drift", "contract/breaking-changes"} <= {c.id for c in summary.checks}
    written = (
        json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    )
    assert written is None  # the CLI writes summary.json via Run.record_suite
    for name in ("gate.md", "gate.json", "junit.xml", "schemathesis.har", "openapi.json"):
        assert f"contract/{name}" in summary.artifacts


def _token(base_url: str, email: str, password: str) -> str:
    answer = httpx.post(f"{base_url}/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _st_run(base_url: str, token: str, out: Path, *selection: str) -> tuple[int, str]:
    """`st run` of the committed document: all checks, no configuration file, no expectations
    (run from an empty directory, so no schemathesis.toml is picked up), a small budget."""
    out.mkdir()
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(COMMITTED_SCHEMA),
        "--url",
        base_url,
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        "5",
        "--seed",
        "20261126",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--report-junit-path",
        str(out / "junit.xml"),
        *selection,
    ]
    done = subprocess.run(
        command, cwd=out, capture_output=True, text=True, timeout=600, check=False
    )
    return done.returncode, done.stdout[-6000:] + done.stderr[-2000:]


def test_unconfigured_schemathesis_finds_nothing_as_customer_or_admin(
    tmp_path: Path, served: str
) -> None:
    """Issue 17: the committed contract says what the service accepts (cursor forms, each flag's
    value type, `items` never null, state conflicts and rules no schema can state as 409), so
    Schemathesis' own defaults, positive data acceptance included, find nothing. Customer and
    admin each fuzz every operation of a service with fault injection off, as production runs:
    the fault flags answer their documented 403 there, so no fuzzed request can make the rest
    of the run fail (ADR-015, ADR-016)."""
    email = "st-customer@example.com"
    account = {"email": email, "password": CUSTOMER_PASSWORD, "full_name": "St Customer"}
    assert httpx.post(f"{served}/auth/register", json=account).status_code == 201
    customer = _token(served, email, CUSTOMER_PASSWORD)
    admin = _token(served, ADMIN.email, ADMIN.password)

    code, output = _st_run(served, customer, tmp_path / "customer")
    assert code == 0, output
    assert failures(tmp_path / "customer" / "junit.xml") == []
    code, output = _st_run(served, admin, tmp_path / "admin")
    assert code == 0, output
    report = ET.parse(tmp_path / "admin" / "junit.xml").getroot()  # noqa: S314 - ours
    assert failures(tmp_path / "admin" / "junit.xml") == []
    tested = {case.get("name") for case in report.iter("testcase")}
    assert {
        "PUT /admin/flags/catalog_cache_enabled",
        "PUT /admin/flags/payment_primary_down",
        "GET /admin/orders",
        "POST /orders",
    } <= tested
    # Nothing the admin sent injected a fault.
    flags = httpx.get(f"{served}/admin/flags", headers={"Authorization": f"Bearer {admin}"})
    assert {f["name"]: f["value"] for f in flags.json()}["payment_primary_down"] is False
