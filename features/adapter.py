"""The acceptance suite's adapter: run pytest-bdd against the Target, JUnit XML -> summary.json.

JUnit XML (with the feature, scenario and requirement ids each scenario records as
properties) is the source of the checks; Cucumber JSON is kept beside it for tools that
read it. Extra pytest arguments come from `ASSAY_ACCEPTANCE_ARGS` (e.g. `-k cart`), the
worker count from `ASSAY_ACCEPTANCE_WORKERS` (default: two per CPU, at most 8). Scenarios
tagged with a tag in `ASSAY_DESELECT_TAGS` (`assay run --deselect-tag admin`) are left out on
purpose: pytest deselects them, so they are neither run nor counted as skipped. When the
target exposes its gateways' ledgers, the run ends with the money reconciliation
(`metrics.ledger`, check `ledger::gateways-agree`). Last, the target's audit head is anchored
in `acceptance/audit_head.json` (see assay.audit_anchor).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from assay.audit_anchor import anchor_target
from assay.catalog import load_catalog
from assay.ledger.summary import record_ledger
from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Check, Counts, Summary, Verdict, counts_verdict, utcnow
from assay.target import Target

NAME = "acceptance"
FEATURES_DIR = Path(__file__).resolve().parent
JUNIT = "junit.xml"
CUCUMBER = "cucumber.json"
LOG = "pytest.log"
# pytest exit codes that still mean "the tests ran": 0 all passed, 1 some failed.
JUDGED = {0, 1}
DESELECT_ENV = "ASSAY_DESELECT_TAGS"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def deselected_tags(environ: dict[str, str] | None = None) -> list[str]:
    """Tags whose scenarios are left out on purpose (`ASSAY_DESELECT_TAGS`, comma-separated)."""
    env = os.environ if environ is None else environ
    tags = [t.strip().lstrip("@") for t in env.get(DESELECT_ENV, "").split(",") if t.strip()]
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise SuiteError(f"{DESELECT_ENV}: not a tag name: {', '.join(bad)}")
    return tags


def deselect_args(tags: list[str]) -> list[str]:
    """pytest arguments that deselect scenarios carrying any of `tags` (Gherkin tags are marks)."""
    return ["-m", " and ".join(f"not {t}" for t in tags)] if tags else []


def workers() -> str:
    """How many pytest-xdist workers to use."""
    configured = os.environ.get("ASSAY_ACCEPTANCE_WORKERS")
    if configured:
        return configured
    return str(min(8, 2 * (os.cpu_count() or 1)))


def pytest_command(out: Path, extra: list[str]) -> list[str]:
    """The pytest invocation that runs every feature and writes the raw reports into `out`."""
    return [
        sys.executable,
        "-m",
        "pytest",
        str(FEATURES_DIR),
        "-c",
        str(FEATURES_DIR / "pytest.ini"),
        "--rootdir",
        str(FEATURES_DIR),
        "-n",
        workers(),
        "-q",
        f"--junitxml={out / JUNIT}",
        f"--cucumberjson={out / CUCUMBER}",
        *extra,
    ]


def _properties(case: ET.Element) -> dict[str, str]:
    return {
        prop.get("name", ""): prop.get("value", "")
        for prop in case.iter("property")
        if prop.get("name")
    }


def _outcome(case: ET.Element) -> tuple[Verdict, str | None]:
    for tag, verdict in (
        ("failure", Verdict.FAIL),
        ("error", Verdict.ERROR),
        ("skipped", Verdict.SKIPPED),
    ):
        node = case.find(tag)
        if node is not None:
            text = (node.text or "").strip() or node.get("message", "")
            return verdict, text or None
    return Verdict.PASS, None


def checks_from_junit(junit: Path, evidence: list[str]) -> list[Check]:
    """One check per scenario (outline example), linked to its requirement ids and controls."""
    catalog = load_catalog()
    root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest output
    checks: list[Check] = []
    for case in root.iter("testcase"):
        props = _properties(case)
        verdict, message = _outcome(case)
        name = case.get("name", "")
        example = name[name.index("[") :] if "[" in name else ""
        feature = props.get("feature") or case.get("classname", "")
        scenario = props.get("scenario") or name
        requirements = props.get("requirements", "").split()
        controls = sorted(
            {
                c
                for r in requirements
                if r in catalog.requirements
                for c in catalog.requirements[r].controls
            }
        )
        checks.append(
            Check(
                id=f"{feature}::{scenario}{example}",
                title=scenario,
                requirements=requirements,
                controls=controls,
                verdict=verdict,
                duration_s=round(float(case.get("time", "0") or 0), 3),
                evidence=evidence,
                message=message,
            )
        )
    return checks


def count(checks: list[Check]) -> Counts:
    """Counts by verdict."""
    return Counts(
        passed=sum(c.verdict is Verdict.PASS for c in checks),
        failed=sum(c.verdict is Verdict.FAIL for c in checks),
        skipped=sum(c.verdict is Verdict.SKIPPED for c in checks),
        errors=sum(c.verdict is Verdict.ERROR for c in checks),
    )


def summarize(
    out: Path,
    run_dir: Path,
    started: datetime,
    duration_s: float,
    deselected: list[str] | None = None,
) -> Summary:
    """summary.json contents from the raw reports in `out`."""
    rel = out.relative_to(run_dir).as_posix()
    artifacts = [f"{rel}/{name}" for name in (JUNIT, CUCUMBER, LOG) if (out / name).exists()]
    checks = checks_from_junit(out / JUNIT, [f"{rel}/{JUNIT}", f"{rel}/{CUCUMBER}"])
    counts = count(checks)
    skipped = sorted({c.message for c in checks if c.verdict is Verdict.SKIPPED and c.message})
    return Summary(
        suite=NAME,
        verdict=counts_verdict(counts),
        started_at=started,
        finished_at=utcnow(),
        duration_s=round(duration_s, 2),
        counts=counts,
        checks=checks,
        artifacts=artifacts,
        notes=[
            *(["deselected on purpose: tags " + ", ".join(deselected)] if deselected else []),
            *(f"skipped: {reason}" for reason in skipped),
        ],
        metrics={
            "scenarios": len(checks),
            "workers": workers(),
            "deselected_tags": deselected or [],
        },
    )


def run_acceptance(run: Run, target: Target) -> Summary:
    """Gherkin acceptance specs (pytest-bdd) against the target over HTTP."""
    out = run.suite_dir(NAME)
    for stale in (JUNIT, CUCUMBER):
        (out / stale).unlink(missing_ok=True)
    tags = deselected_tags()
    extra = shlex.split(os.environ.get("ASSAY_ACCEPTANCE_ARGS", "")) + deselect_args(tags)
    env = {**os.environ, **target.env(), "PYTHONUNBUFFERED": "1"}
    started = utcnow()
    clock = time.monotonic()
    with (out / LOG).open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - our interpreter running pytest on our features
            pytest_command(out, extra),
            cwd=FEATURES_DIR.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:  # pytest's own progress, shown live and kept in the run
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
        code = process.wait()
    duration = time.monotonic() - clock
    if code not in JUDGED or not (out / JUNIT).exists():
        raise SuiteError(f"pytest exited {code} without judging; see {NAME}/{LOG}")
    # After every scenario: all the money the run moved, gateways against the service; then
    # the audit chain's head, anchored in the run (and so in its signed evidence pack).
    summary = record_ledger(summarize(out, run.directory, started, duration, tags), target)
    note = anchor_target(out, target)
    return summary.model_copy(update={"notes": [*summary.notes, note]})


SUITE = Suite(name=NAME, run=run_acceptance, description=run_acceptance.__doc__ or "", order=10)
