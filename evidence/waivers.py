"""waivers.json: every waiver in force for a run, with who answers for it, for the pack.

Two sources: the catalog the run was made under (security exceptions, inline scanner skips,
SLOs a perf shape leaves unjudged, untested requirements), and the waivers each suite
applied while it ran (a check it could not judge for a named, expected condition).
"""

from __future__ import annotations

import json
from typing import Any

from assay.catalog import Catalog
from assay.record import Run

FILENAME = "waivers.json"
# A security waiver is about a scanner: its controls are those of the scanner's check.
SCANNER_CHECKS = {
    "bandit": "security/bandit",
    "pip-audit": "security/pip-audit",
    "secrets": "security/secrets",
    "checkov": "security/checkov",
}


def _scanner_controls(run: Run, catalog: Catalog, tool: str) -> list[str]:
    summary = run.summaries.get("security")
    check_id = SCANNER_CHECKS.get(tool)
    if summary is None or check_id is None:
        return []
    found: set[str] = set()
    for check in summary.checks:
        if check.id == check_id:
            found.update(check.controls)
            for req in check.requirements:
                if req in catalog.requirements:
                    found.update(catalog.requirements[req].controls)
    return sorted(found)


def waivers(run: Run) -> list[dict[str, Any]]:
    """Every waiver of the run's catalog and every waiver its suites applied, one shape."""
    catalog = run.catalog()
    day = run.record.finished_at.date()
    entries = []
    for waiver in catalog.waivers():
        data = waiver.model_dump(mode="json")
        if waiver.tool is not None:
            data["controls"] = _scanner_controls(run, catalog, waiver.tool)
        data["source"] = "catalog"
        data["expired_at_run"] = waiver.expired(day)
        entries.append(data)
    for suite, summary in sorted(run.summaries.items()):
        for used in summary.waivers:
            controls = {
                c
                for check in summary.checks
                if check.id == used.check
                for c in [
                    *check.controls,
                    *(
                        k
                        for r in check.requirements
                        if r in catalog.requirements
                        for k in catalog.requirements[r].controls
                    ),
                ]
            }
            entries.append(
                {
                    "kind": "applied",
                    "subject": f"{used.check} ({used.condition})",
                    "reason": used.reason,
                    "owner": used.owner,
                    "approver": used.approver,
                    "ticket": used.ticket,
                    "expires": used.expires.isoformat(),
                    "requirements": [],
                    "controls": sorted(controls),
                    "source": f"{suite}/summary.json",
                    "expired_at_run": used.expires < day,
                }
            )
    return entries


def to_json(run: Run) -> bytes:
    """The pack's waivers.json."""
    document = {"run_id": run.run_id, "waivers": waivers(run)}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
