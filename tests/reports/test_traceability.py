"""Traceability CSV: one row per catalog link, no orphan tags, coverage over the history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assay.record import load_run
from assay.summary import Summary, Verdict
from reports import figures, traceability
from reports.figures import ReportData
from reports.traceability import COLUMNS, Traceability
from tests.fixtures.runs.make_runs import RUN_A, RUN_B, RUN_C


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
        counts["covered"]
        + counts["failing"]
        + counts["stale"]
        + counts["unjudged"]
        + counts["no-test"]
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


def _status(trace: Traceability, req_id: str) -> tuple[str, str]:
    row = trace.coverage[trace.coverage["requirement_id"] == req_id].iloc[0]
    return str(row["status"]), str(row["reason"])


def test_a_requirement_whose_every_check_was_skipped_is_not_covered(runs_dir: Path) -> None:
    for run_id in (RUN_A, RUN_B, RUN_C):
        path = runs_dir / run_id / "acceptance" / "summary.json"
        summary = Summary.read(path)
        checks = [
            c.model_copy(update={"verdict": Verdict.SKIPPED, "message": "needs ASSAY_JWT_SECRET"})
            if "REQ-SEC-001" in c.requirements
            else c
            for c in summary.checks
        ]
        summary.model_copy(update={"checks": checks}).write(path.parent)
    trace = traceability.build(figures.load(load_run(runs_dir / RUN_C)))
    status, reason = _status(trace, "REQ-SEC-001")
    assert status == "unjudged"
    assert reason == "no linked check is evidence: skipped: needs ASSAY_JWT_SECRET"
    row = trace.rows[trace.rows["requirement_id"] == "REQ-SEC-001"].iloc[0]
    assert row["not_evidence_because"] == "skipped: needs ASSAY_JWT_SECRET"
    assert traceability.totals(trace)["unjudged"] >= 1


def test_a_load_requirement_is_uncovered_by_a_run_of_another_shape(runs_dir: Path) -> None:
    # run B's miss at the sustained rate fails it; run C's pass there does not cover a spike
    trace_b = traceability.build(figures.load(load_run(runs_dir / RUN_B)))
    assert _status(trace_b, "REQ-PERF-002")[0] == "failing"
    shutil.rmtree(runs_dir / RUN_B)
    trace = traceability.build(figures.load(load_run(runs_dir / RUN_C)))
    status, reason = _status(trace, "REQ-PERF-002")
    assert status == "unjudged"
    assert "a sustained run at 300 RPS cannot cover REQ-PERF-002" in reason
    assert "it needs a spike run at ≥ 380 RPS" in reason
