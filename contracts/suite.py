"""The contract suite's adapter: drift, gate and Schemathesis against the Target -> summary.json.

1. drift: the Target's published OpenAPI document equals the committed contract;
2. gate: the committed contract has no unacknowledged breaking change against the baseline
   (`gate.md`, `gate.json`);
3. Schemathesis (pytest on `contracts/`), in-process ASGI when the Target is managed by Assay
   (a fresh reference service on the Target's JWT secret and admin), HTTP otherwise
   (`junit.xml`, `schemathesis-junit.xml`, `schemathesis.har`).

Budget and seed: `ASSAY_CONTRACT_MAX_EXAMPLES` (per operation), `ASSAY_CONTRACT_STATEFUL_EXAMPLES`,
`ASSAY_CONTRACT_SEED`; `ASSAY_CONTRACT_TRANSPORT=http` tests even a managed Target over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import httpx
import schemathesis

from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Check, Counts, Summary, Verdict, counts_verdict, utcnow
from assay.target import Target, TargetKind
from contracts.export import CONTRACT, REGENERATE, drift, read, render
from contracts.gate import GATE_JSON, GATE_MD, run_gate
from contracts.live import DEFAULT_MAX_EXAMPLES, DEFAULT_SEED, DEFAULT_STATEFUL_EXAMPLES

NAME = "contract"
CONTRACTS_DIR = Path(__file__).resolve().parent
JUNIT = "junit.xml"
REPORTS = ("schemathesis-junit.xml", "schemathesis.har")
LOG = "pytest.log"
API = ["REQ-API-001"]
JUDGED = {0, 1}  # pytest ran the tests (all passed / some failed)


def _transport(target: Target, environ: Mapping[str, str]) -> str:
    default = "asgi" if target.kind is TargetKind.MANAGED else "http"
    return environ.get("ASSAY_CONTRACT_TRANSPORT", default)


def drift_check(target: Target, contract: Path = CONTRACT) -> Check:
    """The Target serves exactly the committed contract."""
    try:
        response = httpx.get(f"{target.base_url}/openapi.json", timeout=10.0)
        response.raise_for_status()
        live = render(response.json())
    except (httpx.HTTPError, ValueError) as exc:
        return Check(id="contract/drift", requirements=API, verdict=Verdict.ERROR, message=str(exc))
    committed = render(read(contract))
    ok = live == committed
    message = None if ok else "\n".join([*drift(committed, live, 20), f"regenerate: {REGENERATE}"])
    return Check(
        id="contract/drift",
        title="The target serves the committed OpenAPI contract",
        requirements=API,
        controls=["CC8.1"],
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        evidence=[f"{NAME}/openapi.json"],
        message=message,
    )


def gate_check(out: Path, base_ref: str | None) -> tuple[Check, dict[str, int]]:
    """The breaking-change gate, written into the run."""
    result = run_gate(base_ref=base_ref)
    result.write(out)
    breaking = [f"{c.operation}: {c.kind} at {c.location}" for c in result.breaking]
    check = Check(
        id="contract/breaking-changes",
        title="No unacknowledged breaking change against the baseline",
        requirements=API,
        controls=["CC8.1"],
        verdict=Verdict.PASS if result.passed else Verdict.FAIL,
        evidence=[f"{NAME}/{GATE_MD}", f"{NAME}/{GATE_JSON}"],
        message="\n".join(breaking[:20]) or None,
    )
    return check, {"breaking": len(result.breaking), "compatible": len(result.changes)}


def pytest_command(out: Path, seed: int) -> list[str]:
    """The pytest run of the Schemathesis tests."""
    return [
        sys.executable,
        "-m",
        "pytest",
        str(CONTRACTS_DIR),
        "-c",
        str(CONTRACTS_DIR / "pytest.ini"),
        "--rootdir",
        str(CONTRACTS_DIR),
        "-q",
        f"--hypothesis-seed={seed}",
        f"--junitxml={out / JUNIT}",
    ]


def _outcome(case: ET.Element) -> tuple[Verdict, str | None]:
    for tag, verdict in (("failure", Verdict.FAIL), ("error", Verdict.ERROR)):
        node = case.find(tag)
        if node is not None:
            return verdict, ((node.text or "").strip() or node.get("message", ""))[:4000]
    if case.find("skipped") is not None:
        return Verdict.SKIPPED, None
    return Verdict.PASS, None


def checks_from_junit(out: Path) -> list[Check]:
    """One check per operation (Schemathesis' JUnit) and one for the stateful workflows (pytest's).

    pytest names every operation's test `test_operation`; Schemathesis' own report names the
    operation, so each operation is read from there.
    """
    checks = []
    for case in ET.parse(out / REPORTS[0]).getroot().iter("testcase"):  # noqa: S314 - ours
        verdict, message = _outcome(case)
        checks.append(
            Check(
                id=f"schemathesis::{case.get('name', '')}",
                title="Positive and negative data, every built-in check",
                requirements=[*API, "REQ-SEC-003"],
                controls=["CC8.1", "CC6.6"],
                verdict=verdict,
                duration_s=round(float(case.get("time", "0") or 0), 3),
                evidence=[f"{NAME}/{REPORTS[0]}", f"{NAME}/{REPORTS[1]}"],
                message=message,
            )
        )
    for case in ET.parse(out / JUNIT).getroot().iter("testcase"):  # noqa: S314 - ours
        if case.get("name") == "test_operation":
            continue
        verdict, message = _outcome(case)
        checks.append(
            Check(
                id=f"schemathesis::{case.get('name', '')}",
                title="Stateful workflows through the contract's links",
                requirements=API,
                controls=["CC8.1"],
                verdict=verdict,
                duration_s=round(float(case.get("time", "0") or 0), 3),
                evidence=[f"{NAME}/{JUNIT}"],
                message=message,
            )
        )
    return checks


def run_schemathesis(out: Path, target: Target, environ: Mapping[str, str]) -> tuple[int, float]:
    """Run pytest on contracts/ against the Target; its output is kept in the run."""
    env = {
        **environ,
        **target.env(),
        "ASSAY_CONTRACT_TRANSPORT": _transport(target, environ),
        "ASSAY_CONTRACT_OUT": str(out),
        "PYTHONUNBUFFERED": "1",
    }
    seed = int(env.get("ASSAY_CONTRACT_SEED", DEFAULT_SEED))
    clock = time.monotonic()
    with (out / LOG).open("w", encoding="utf-8") as log:
        process = subprocess.run(  # noqa: S603 - our interpreter running pytest on contracts/
            pytest_command(out, seed),
            cwd=CONTRACTS_DIR.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return process.returncode, time.monotonic() - clock


def run_contract(run: Run, target: Target) -> Summary:
    """OpenAPI drift, breaking-change gate and Schemathesis (all checks) against the target."""
    out = run.suite_dir(NAME)
    for stale in (JUNIT, *REPORTS, GATE_MD, GATE_JSON):
        (out / stale).unlink(missing_ok=True)
    started = utcnow()
    clock = time.monotonic()
    environ = dict(os.environ)
    (out / "openapi.json").write_text(render(read(CONTRACT)), encoding="utf-8")
    gate, gate_counts = gate_check(out, environ.get("ASSAY_CONTRACT_BASE"))
    checks = [drift_check(target), gate]
    code, st_seconds = run_schemathesis(out, target, environ)
    if code not in JUDGED or not (out / JUNIT).exists():
        raise SuiteError(f"pytest exited {code} without judging; see {NAME}/{LOG}")
    if not (out / REPORTS[0]).exists():
        raise SuiteError(f"Schemathesis wrote no report; see {NAME}/{LOG}")
    checks += checks_from_junit(out)
    counts = Counts(
        passed=sum(c.verdict is Verdict.PASS for c in checks),
        failed=sum(c.verdict is Verdict.FAIL for c in checks),
        skipped=sum(c.verdict is Verdict.SKIPPED for c in checks),
        errors=sum(c.verdict is Verdict.ERROR for c in checks),
    )
    names = ["openapi.json", GATE_MD, GATE_JSON, JUNIT, *REPORTS, LOG]
    return Summary(
        suite=NAME,
        verdict=counts_verdict(counts),
        started_at=started,
        finished_at=utcnow(),
        duration_s=round(time.monotonic() - clock, 2),
        counts=counts,
        checks=checks,
        artifacts=[f"{NAME}/{name}" for name in names if (out / name).exists()],
        metrics={
            "schemathesis_version": schemathesis.__version__,
            "seed": int(environ.get("ASSAY_CONTRACT_SEED", DEFAULT_SEED)),
            "max_examples": int(environ.get("ASSAY_CONTRACT_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES)),
            "stateful_examples": int(
                environ.get("ASSAY_CONTRACT_STATEFUL_EXAMPLES", DEFAULT_STATEFUL_EXAMPLES)
            ),
            "transport": _transport(target, environ),
            "schemathesis_seconds": round(st_seconds, 2),
            "operations": len(json.loads((out / "openapi.json").read_text())["paths"]),
            "gate": gate_counts,
        },
    )


SUITE = Suite(name=NAME, run=run_contract, description=run_contract.__doc__ or "", order=20)
