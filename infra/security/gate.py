"""The security gate: run every scanner, apply accepted exceptions, write the suite summary.

Writes into runs/<run_id>/security/: each scanner's machine-readable report, the pinned
dependency lock, summary.json (the shape every suite writes, DESIGN.md) and summary.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from assay import __version__ as assay_version
from assay.summary import Summary
from infra.security import exceptions, scanners
from infra.security.scanners import ScanResult

ROOT = Path(__file__).resolve().parents[2]
# Catalog requirement and SOC 2 controls each scanner evidences (assay/catalog/*.yaml).
TRACE = {
    "bandit": (["REQ-SUP-001"], ["CC6.8"]),
    "pip-audit": (["REQ-SUP-001"], ["CC6.8", "CC7.1"]),
    "secrets": (["REQ-SUP-001"], ["CC6.8", "CC6.1"]),
    "sbom": (["REQ-SUP-001"], ["CC6.8"]),
    "checkov": (["REQ-IAC-001"], ["CC7.1"]),
}


def run_dir(root: Path = ROOT) -> Path:
    """runs/<run_id>/ from ASSAY_RUNS_DIR and ASSAY_RUN_ID (a UTC timestamp by default)."""
    runs = Path(os.environ.get("ASSAY_RUNS_DIR", root / "runs"))
    run_id = os.environ.get("ASSAY_RUN_ID") or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return runs / run_id


def verdict(result: ScanResult) -> str:
    """fail on any high finding not accepted; error when the scanner could not judge."""
    if any(f.severity == "high" and not f.accepted for f in result.findings):
        return "fail"
    return "error" if result.error else "pass"


def scan(root: Path, out: Path) -> list[ScanResult]:
    """Run every scanner over the repository at root, reports into out."""
    out.mkdir(parents=True, exist_ok=True)
    lock = scanners.write_lock(out)
    return [
        scanners.timed(scanners.bandit, root, out),
        scanners.timed(scanners.pip_audit, root, out, lock),
        scanners.timed(scanners.secrets, root, out),
        scanners.timed(scanners.sbom, root, out, lock),
        scanners.timed(scanners.checkov, root, out),
    ]


def _metrics(result: ScanResult) -> dict[str, Any]:
    counts = {
        s: sum(1 for f in result.findings if f.severity == s) for s in ("high", "medium", "low")
    }
    accepted = [f.__dict__ for f in result.findings if f.accepted]
    blocking = [f.__dict__ for f in result.findings if f.severity == "high" and not f.accepted]
    return {**result.metrics, **counts, "accepted": accepted, "blocking": blocking[:50]}


def provenance(results: list[ScanResult], run: Path) -> dict[str, dict[str, str | None]]:
    """Each report file's tool, its version and when it was written (`metrics.tools`)."""
    # The gate writes summary.md itself (summary.json is the harness's own file).
    tools: dict[str, dict[str, str | None]] = {
        "security/summary.md": {"tool": "assay", "version": assay_version, "collected_at": None}
    }
    versions = {res.tool: scanners.tool_version(res.tool) for res in results if res.reports}
    for res in results:
        for report in res.reports:
            name = str(report.relative_to(run))
            if report.name == scanners.LOCK:
                # The gate pins the closure itself; the scanners only read it.
                entry = {"tool": "assay", "version": assay_version, "collected_at": None}
            else:
                tool = scanners.TOOLS[res.tool][0]
                entry = {"tool": tool, "version": versions[res.tool]}
                entry["collected_at"] = res.finished_at or None
            tools.setdefault(name, entry)
    return tools


def summarize(results: list[ScanResult], run: Path, started: dt.datetime) -> dict[str, Any]:
    """The suite summary in the shape DESIGN.md fixes for every suite."""
    finished = dt.datetime.now(dt.UTC)
    checks: list[dict[str, Any]] = []
    notes: list[str] = []
    artifacts = {"security/summary.json", "security/summary.md"}
    for res in results:
        judged = verdict(res)
        evidence = [str(p.relative_to(run)) for p in res.reports]
        artifacts.update(evidence)
        checks.append(
            {
                "id": f"security/{res.tool}",
                "requirements": TRACE[res.tool][0],
                "controls": TRACE[res.tool][1],
                "verdict": judged,
                "duration_s": res.duration_s,
                "evidence": evidence,
            }
        )
        if res.error:
            notes.append(f"{res.tool}: {res.error}")
        notes += [
            f"{res.tool}: accepted {f.rule} in {f.path}: {f.accepted}"
            for f in res.findings
            if f.accepted
        ]
        notes += [f"{res.tool}: {n}" for n in res.notes]
    verdicts = [c["verdict"] for c in checks]
    overall = "fail" if "fail" in verdicts else "error" if "error" in verdicts else "pass"
    return {
        "suite": "security",
        "verdict": overall,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round((finished - started).total_seconds(), 2),
        "counts": {
            "passed": verdicts.count("pass"),
            "failed": verdicts.count("fail"),
            "skipped": verdicts.count("skipped"),
            "errors": verdicts.count("error"),
        },
        "slos": [],
        "checks": checks,
        "artifacts": sorted(artifacts),
        "notes": notes,
        "metrics": {
            **{res.tool: _metrics(res) for res in results},
            "tools": provenance(results, run),
        },
    }


def markdown(summary: dict[str, Any]) -> str:
    """A short human summary next to summary.json."""
    lines = [
        f"# Security gate: {summary['verdict']}",
        "",
        "| check | verdict | high | medium | low |",
    ]
    lines.append("|---|---|---|---|---|")
    for check in summary["checks"]:
        m = summary["metrics"][check["id"].split("/")[1]]
        lines.append(
            f"| {check['id']} | {check['verdict']} | {m['high']} | {m['medium']} | {m['low']} |"
        )
    lines += ["", *(f"- {n}" for n in summary["notes"][:100])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the gate; exit 1 on fail, and on error too with --strict (or ASSAY_SECURITY_STRICT=1)."""
    parser = argparse.ArgumentParser(prog="python -m infra.security")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository to scan")
    parser.add_argument(
        "--strict", action="store_true", help="treat 'error' (could not judge) as failure"
    )
    args = parser.parse_args(argv)
    strict = args.strict or os.environ.get("ASSAY_SECURITY_STRICT") == "1"
    started = dt.datetime.now(dt.UTC)
    run = run_dir(args.root)
    results = scan(args.root, run / "security")
    accepted = exceptions.load()
    for res in results:
        exceptions.apply(res.findings, accepted, started.date())
    summary = summarize(results, run, started)
    # The shared model validates the shape every suite writes before anything reads it.
    Summary.model_validate(summary).write(run / "security")
    (run / "security" / "summary.md").write_text(markdown(summary))
    for check in summary["checks"]:
        print(f"{check['id']:<20} {check['verdict']}")
    for note in summary["notes"]:
        if not note.split(": ", 1)[1].startswith(("inline skip", "accepted")):
            print(f"  note: {note}")
    print(f"security verdict: {summary['verdict']} -> {run / 'security' / 'summary.json'}")
    if summary["verdict"] == "fail" or (strict and summary["verdict"] == "error"):
        return 1
    return 0
