"""OSCAL assessment results: one observation per item, one finding per control, valid in trestle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal.assessment_results import AssessmentResults

from assay.overall import of_run
from assay.record import Run, load_run
from assay.signing import Signer
from assay.summary import Check, Summary, Verdict
from evidence.oscal import validate_file
from evidence.pack import Pack, build_pack, read_manifest
from tests.fixtures.runs.make_runs import RUN_C

pytestmark = pytest.mark.req("REQ-EVD-001")


def _findings(results: AssessmentResults) -> dict[str, str]:
    findings = results.results[0].findings or []
    return {f.target.target_id: f.target.status.state.value for f in findings if f.target.status}


def test_assessment_results_validate_in_trestle(pack: Pack) -> None:
    results = validate_file(pack.oscal)
    assert isinstance(results, AssessmentResults)


def test_the_results_carry_the_runs_one_overall_verdict(pack: Pack, run_b: Run) -> None:
    result = validate_file(pack.oscal).results[0]
    props = {p.name: p.value for p in result.props or []}
    assert props["assay-overall"] == "fail"  # run B failed chaos and perf
    assert result.description.endswith(f"Overall: {of_run(run_b).label}.")
    assert of_run(run_b).label.startswith("fail (")


def test_one_observation_per_evidence_item_with_test_method_and_evidence_link(pack: Pack) -> None:
    results = validate_file(pack.oscal)
    manifest = read_manifest(pack.manifest)
    observations = results.results[0].observations or []
    files = observations[: len(manifest.items)]  # then one per check and one per SLO
    for observation, item in zip(files, manifest.items, strict=True):
        assert observation.title == item.path
        assert [getattr(m, "value", m) for m in observation.methods] == ["TEST"]
        assert observation.relevant_evidence is not None
        assert observation.relevant_evidence[0].href == f"../{item.path}"  # from oscal/
        assert item.sha256 in observation.relevant_evidence[0].description


def test_one_finding_per_control_and_failures_are_not_satisfied(pack: Pack, run_b: Run) -> None:
    states = _findings(validate_file(pack.oscal))
    assert set(states) == set(run_b.catalog().controls)
    assert states["CC7.5"] == "not-satisfied"  # the database-restart experiment failed
    assert states["A1.2"] == "not-satisfied"  # the perf SLO was missed
    assert states["CC7.1"] == "satisfied"
    assert states["CC6.8"] == "not-satisfied"  # partial: REQ-SUP-002 has no test


def test_findings_point_at_the_observations_of_their_evidence(pack: Pack) -> None:
    raw = json.loads(pack.oscal.read_text())["assessment-results"]["results"][0]
    titles = {o["uuid"]: o["title"] for o in raw["observations"]}
    cc75 = next(f for f in raw["findings"] if f["target"]["target-id"] == "CC7.5")
    related = {titles[r["observation-uuid"]] for r in cc75["related-observations"]}
    assert "chaos/restart-database.journal.json" in related


def _rewrite(run_dir: Path, suite: str, verdict: Verdict | None = None, *extra: Check) -> None:
    path = run_dir / suite / "summary.json"
    summary = Summary.read(path)
    checks = [c.model_copy(update={"verdict": verdict or c.verdict}) for c in summary.checks]
    summary.model_copy(update={"checks": [*checks, *extra]}).write(path.parent)


def _finding(run_dir: Path, signer: Signer, control_id: str) -> dict[str, Any]:
    pack = build_pack(load_run(run_dir), signer)
    raw = json.loads(pack.oscal.read_text())["assessment-results"]["results"][0]
    return next(f for f in raw["findings"] if f["target"]["target-id"] == control_id)


def test_a_control_whose_checks_all_warned_is_satisfied_only_with_named_exceptions(
    runs_dir: Path, signer: Signer
) -> None:
    _rewrite(runs_dir / RUN_C, "chaos", Verdict.WARNING)
    finding = _finding(runs_dir / RUN_C, signer, "CC7.5")
    assert finding["target"]["status"]["reason"] == "other"
    assert finding["props"] == [{"name": "assay-state", "value": "satisfied-with-exceptions"}]
    assert finding["target"]["status"]["state"] == "satisfied"
    assert "chaos/restart-database: warning" in finding["description"]


def test_a_requirement_whose_every_check_was_skipped_gives_no_evidence(
    runs_dir: Path, signer: Signer
) -> None:
    _rewrite(runs_dir / RUN_C, "chaos", Verdict.SKIPPED)
    finding = _finding(runs_dir / RUN_C, signer, "CC7.5")
    assert finding["target"]["status"]["state"] == "not-satisfied"
    assert finding["description"].startswith("No check in this run produced evidence for it")


def test_a_control_with_an_untested_requirement_is_partial(runs_dir: Path, signer: Signer) -> None:
    finding = _finding(runs_dir / RUN_C, signer, "CC8.1")
    assert finding["target"]["status"]["state"] == "not-satisfied"
    assert finding["props"][0] == {"name": "assay-state", "value": "partial"}
    assert {"name": "waiver", "value": "REQ-REL-001"} in finding["props"]
    assert "REQ-REL-001 (no test in this run" in finding["description"]


def test_only_the_controls_evidence_suites_count(runs_dir: Path, signer: Signer) -> None:
    # CC7.5's evidence is chaos; an acceptance scenario naming its requirement is not
    extra = Check(id="ops/db.feature::Restart", requirements=["REQ-RES-002"], verdict=Verdict.FAIL)
    _rewrite(runs_dir / RUN_C, "acceptance", None, extra)
    finding = _finding(runs_dir / RUN_C, signer, "CC7.5")
    assert finding["target"]["status"]["state"] == "satisfied"
