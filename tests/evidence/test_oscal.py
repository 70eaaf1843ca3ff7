"""OSCAL assessment results: one observation per item, one finding per control, valid in trestle."""

from __future__ import annotations

import json

import pytest
from trestle.oscal.assessment_results import AssessmentResults

from evidence.oscal import validate_file
from evidence.pack import Pack, read_manifest
from evidence.run import Run

pytestmark = pytest.mark.req("REQ-EVD-001")


def _findings(results: AssessmentResults) -> dict[str, str]:
    findings = results.results[0].findings or []
    return {f.target.target_id: f.target.status.state.value for f in findings if f.target.status}


def test_assessment_results_validate_in_trestle(pack: Pack) -> None:
    results = validate_file(pack.oscal)
    assert isinstance(results, AssessmentResults)


def test_one_observation_per_evidence_item_with_test_method_and_evidence_link(pack: Pack) -> None:
    results = validate_file(pack.oscal)
    manifest = read_manifest(pack.manifest)
    observations = results.results[0].observations or []
    assert len(observations) == len(manifest.items)
    for observation, item in zip(observations, manifest.items, strict=True):
        assert [getattr(m, "value", m) for m in observation.methods] == ["TEST"]
        assert observation.relevant_evidence is not None
        assert observation.relevant_evidence[0].href == item.path
        assert item.sha256 in observation.relevant_evidence[0].description


def test_one_finding_per_control_and_failures_are_not_satisfied(pack: Pack, run_b: Run) -> None:
    states = _findings(validate_file(pack.oscal))
    assert set(states) == set(run_b.catalog().controls)
    assert states["CC7.5"] == "not-satisfied"  # the database-restart experiment failed
    assert states["A1.2"] == "not-satisfied"  # the perf SLO was missed
    assert states["CC6.8"] == "satisfied"


def test_findings_point_at_the_observations_of_their_evidence(pack: Pack) -> None:
    raw = json.loads(pack.oscal.read_text())["assessment-results"]["results"][0]
    titles = {o["uuid"]: o["title"] for o in raw["observations"]}
    cc75 = next(f for f in raw["findings"] if f["target"]["target-id"] == "CC7.5")
    related = {titles[r["observation-uuid"]] for r in cc75["related-observations"]}
    assert "chaos/restart-database.journal.json" in related
