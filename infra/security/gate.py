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
from assay.catalog import CouldNotJudge, load_catalog
from assay.summary import Summary, WaiverUse
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


def verdict(result: ScanResult, waiver: CouldNotJudge | None = None) -> str:
    """fail on any high finding not accepted; error when the scanner could not judge, unless a
    catalog waiver names the condition it could not judge in (then skipped, and waived)."""
    if any(f.severity == "high" and not f.accepted for f in result.findings):
        return "fail"
    if result.error:
        return "skipped" if waiver is not None else "error"
    return "pass"


def waiver_for(
    result: ScanResult, waivers: tuple[CouldNotJudge, ...], today: dt.date
) -> CouldNotJudge | None:
    """The catalog waiver covering this scanner's named condition today, if any."""
    if not result.error or not result.condition:
        return None
    return next((w for w in waivers if w.applies(result.tool, result.condition, today)), None)


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


def summarize(
    results: list[ScanResult],
    run: Path,
    started: dt.datetime,
    waivers: tuple[CouldNotJudge, ...] = (),
) -> dict[str, Any]:
    """The suite summary in the shape DESIGN.md fixes for every suite."""
    finished = dt.datetime.now(dt.UTC)
    checks: list[dict[str, Any]] = []
    notes: list[str] = []
    applied: list[dict[str, Any]] = []
    artifacts = {"security/summary.json", "security/summary.md"}
    for res in results:
        waiver = waiver_for(res, waivers, started.date())
        judged = verdict(res, waiver)
        if waiver is not None and judged == "skipped":
            applied.append(_waiver_use(f"security/{res.tool}", res.condition, waiver))
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
                "message": res.error or None,
            }
        )
        if res.error:
            waived = f" (waived: {res.condition})" if judged == "skipped" else ""
            notes.append(f"{res.tool}: {res.error}{waived}")
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
        "waivers": applied,
    }


def exit_code(summary: dict[str, Any]) -> int:
    """1 when any scanner failed or could not judge without a waiver, else 0."""
    return 1 if summary["verdict"] in {"fail", "error"} else 0


def _waiver_use(check: str, condition: str, waiver: CouldNotJudge) -> dict[str, Any]:
    return WaiverUse(
        check=check,
        condition=condition,
        reason=waiver.reason,
        owner=waiver.owner or "",
        approver=waiver.approver or "",
        ticket=waiver.ticket or "",
        expires=waiver.expires or dt.date.min,
    ).model_dump(mode="json")


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
    """Run the gate; exit 1 on fail or error (a scanner that crashed or could not judge).

    The one exception: a scanner in a condition the catalog waives by name (`could_not_judge`,
    with owner, approver, ticket and expiry) is skipped and the waiver recorded. `--strict`
    (or ASSAY_SECURITY_STRICT=1) applies no such waiver.
    """
    parser = argparse.ArgumentParser(prog="python -m infra.security")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository to scan")
    parser.add_argument(
        "--strict", action="store_true", help="apply no could-not-judge waiver from the catalog"
    )
    args = parser.parse_args(argv)
    strict = args.strict or os.environ.get("ASSAY_SECURITY_STRICT") == "1"
    started = dt.datetime.now(dt.UTC)
    run = run_dir(args.root)
    results = scan(args.root, run / "security")
    accepted = exceptions.load()
    for res in results:
        exceptions.apply(res.findings, accepted, started.date())
    waivers = () if strict else load_catalog().could_not_judge
    summary = summarize(results, run, started, waivers)
    # The shared model validates the shape every suite writes before anything reads it.
    Summary.model_validate(summary).write(run / "security")
    (run / "security" / "summary.md").write_text(markdown(summary))
    for check in summary["checks"]:
        print(f"{check['id']:<20} {check['verdict']}")
    for note in summary["notes"]:
        if not note.split(": ", 1)[1].startswith(("inline skip", "accepted")):
            print(f"  note: {note}")
    print(f"security verdict: {summary['verdict']} -> {run / 'security' / 'summary.json'}")
    for waiver in summary["waivers"]:
        print(f"  waiver: {waiver['check']} ({waiver['condition']}), owner {waiver['owner']}")
    return exit_code(summary)
