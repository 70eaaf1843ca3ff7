"""Traceability CSV: one row per catalog link, no orphan tags, coverage over the history."""

from __future__ import annotations

import json
from pathlib import Path

from evidence.run import load_run
from reports import figures, traceability
from reports.figures import ReportData
from reports.traceability import COLUMNS, Traceability
from tests.fixtures.runs.make_runs import RUN_B


def _links(data: ReportData) -> int:
    return sum(len(c.requirements) for s in data.run.summaries.values() for c in s.checks)


def test_one_row_per_catalog_link_and_no_orphans(data_b: ReportData, trace_b: Traceability) -> None:
    assert len(trace_b.rows) == _links(data_b) == trace_b.links
    assert trace_b.orphans == []
    assert list(trace_b.rows.columns) == COLUMNS
    assert set(trace_b.rows["run_id"]) == {RUN_B}
    assert set(trace_b.rows["requirement_id"]) <= set(data_b.catalog.requirements)


def test_rows_carry_catalog_links_kind_result_and_evidence_digest(
    data_b: ReportData, trace_b: Traceability
) -> None:
    row = trace_b.rows[trace_b.rows["requirement_id"] == "REQ-RES-002"].iloc[0]
    assert row["kind"] == "chaos"
    assert row["result"] == "fail"
    assert row["control_ids"] == "CC7.5"
    assert row["risk_ids"] == "RISK-003;RISK-019"
    assert row["seed_sections"] == "10;21;22"
    item = data_b.manifest.item("chaos/restart-database.journal.json")
    assert item is not None
    assert row["evidence_sha256"] == item.sha256
    order = trace_b.rows[trace_b.rows["requirement_id"] == "REQ-ORD-001"].iloc[0]
    assert order["adr_ids"] == "ADR-011"
    assert set(trace_b.rows["kind"]) == {"acceptance", "contract", "perf", "chaos", "security"}


def test_coverage_flags_failing_stale_and_untested(trace_b: Traceability) -> None:
    status = dict(zip(trace_b.coverage["requirement_id"], trace_b.coverage["status"], strict=True))
    assert status["REQ-PERF-001"] == "failing"
    assert status["REQ-RES-002"] == "failing"
    assert status["REQ-ADM-002"] == "stale"  # only run A tested it, 7+ days earlier
    assert status["REQ-EVD-001"] == "no-test"
    assert status["REQ-ORD-001"] == "covered"
    assert list(trace_b.coverage["status"])[:3] == ["failing"] * 3  # failing first


def test_totals_add_up(trace_b: Traceability) -> None:
    counts = traceability.totals(trace_b)
    assert counts["rows"] == counts["links"]
    assert counts["orphan_tags"] == 0
    assert (
        counts["covered"] + counts["failing"] + counts["stale"] + counts["no-test"]
        == counts["requirements"]
    )


def test_an_unknown_requirement_tag_is_reported_as_orphan(runs_dir: Path) -> None:
    path = runs_dir / RUN_B / "contract" / "summary.json"
    summary = json.loads(path.read_text())
    summary["checks"][0]["requirements"].append("REQ-NOPE-999")
    path.write_text(json.dumps(summary))
    trace = traceability.build(figures.load(load_run(runs_dir / RUN_B)))
    assert trace.orphans == ["REQ-NOPE-999"]
    assert len(trace.rows) == trace.links - 1


def test_same_runs_give_the_same_csv(runs_dir: Path) -> None:
    first = traceability.build(figures.load(load_run(runs_dir / RUN_B))).rows.to_csv(index=False)
    second = traceability.build(figures.load(load_run(runs_dir / RUN_B))).rows.to_csv(index=False)
    assert first == second
