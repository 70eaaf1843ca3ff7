"""OSCAL an assessor can follow: plan, components, parties, origins, risks, waivers; in trestle."""

from __future__ import annotations

import json
import posixpath
import zipfile
from pathlib import Path

import pytest
from trestle.core.duplicates_validator import DuplicatesValidator
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition

from assay.record import Run
from evidence.pack import Pack

pytestmark = pytest.mark.req("REQ-EVD-001")


@pytest.fixture
def unpacked(pack: Pack, tmp_path: Path) -> Path:
    """Run B's pack, unzipped: what an assessor receives."""
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(pack.archive) as archive:
        archive.extractall(folder)
    return folder


def _read(path: Path, model: type) -> object:  # type: ignore[type-arg]
    document = model.oscal_read(path)  # type: ignore[attr-defined]
    assert isinstance(document, model)
    assert DuplicatesValidator().model_is_valid(document, quiet=True)
    return document


def _resolve(folder: Path, base: str, href: str) -> Path:
    return folder / posixpath.normpath(posixpath.join(posixpath.dirname(base), href))


def test_results_plan_and_components_validate_in_trestle_and_resolve(unpacked: Path) -> None:
    results = _read(unpacked / "oscal/assessment-results.json", AssessmentResults)
    assert isinstance(results, AssessmentResults)
    plan_path = _resolve(unpacked, "oscal/assessment-results.json", results.import_ap.href)
    plan = _read(plan_path, AssessmentPlan)
    assert isinstance(plan, AssessmentPlan)
    resources = {r.uuid: r for r in plan.back_matter.resources}  # type: ignore[union-attr]
    system = resources[plan.import_ssp.href.removeprefix("#")]
    assert system.rlinks is not None
    components_path = _resolve(unpacked, "oscal/assessment-plan.json", system.rlinks[0].href)
    components = _read(components_path, ComponentDefinition)
    assert isinstance(components, ComponentDefinition)
    (service,) = components.components or []
    subjects = plan.assessment_subjects or []
    assert [s.include_subjects[0].subject_uuid for s in subjects] == [service.uuid]  # type: ignore[union-attr,index]
    implemented = service.control_implementations[0].implemented_requirements  # type: ignore[index]
    reviewed = plan.reviewed_controls.control_selections[0].include_controls or []
    assert {r.control_id for r in implemented} == {c.control_id for c in reviewed}


def test_parties_and_roles_name_the_assessor_and_the_system_owner(unpacked: Path) -> None:
    raw = json.loads((unpacked / "oscal/assessment-results.json").read_text())
    metadata = raw["assessment-results"]["metadata"]
    assert {r["id"] for r in metadata["roles"]} == {"assessor", "system-owner"}
    parties = {p["uuid"]: p["name"] for p in metadata["parties"]}
    responsible = {r["role-id"]: r["party-uuids"] for r in metadata["responsible-parties"]}
    assert parties[responsible["assessor"][0]] == "Assay automated assessment"
    assert parties[responsible["system-owner"][0]].startswith("Owner of the local target")


def test_observations_have_subjects_tool_origins_and_measured_results(
    unpacked: Path, run_b: Run
) -> None:
    results = json.loads((unpacked / "oscal/assessment-results.json").read_text())
    result = results["assessment-results"]["results"][0]
    components = json.loads((unpacked / "oscal/component-definition.json").read_text())
    service = components["component-definition"]["components"][0]["uuid"]
    tools = {c["uuid"]: c["title"] for c in result["local-definitions"]["components"]}
    for observation in result["observations"]:
        assert [s["subject-uuid"] for s in observation["subjects"]] == [service]
        actor = observation["origins"][0]["actors"][0]
        assert actor["type"] == "tool"
        assert actor["actor-uuid"] in tools
    by_title = {o["title"]: o for o in result["observations"]}
    p95 = {p["name"]: p["value"] for p in by_title["SLO-LATENCY-P95"]["props"]}
    measured = next(s for s in run_b.summaries["perf"].slos if s.id == "SLO-LATENCY-P95")
    assert p95["observed"] == f"{measured.observed:g}"
    assert (p95["objective"], p95["verdict"]) == ("300", "fail")
    restart = by_title["chaos/restart-database"]
    assert {"name": "verdict", "value": "fail"} in restart["props"]
    assert tools[restart["origins"][0]["actors"][0]["actor-uuid"]] == "chaostoolkit"


def test_a_finding_not_satisfied_has_a_risk_and_a_plan_of_action(unpacked: Path) -> None:
    raw = json.loads((unpacked / "oscal/assessment-results.json").read_text())
    result = raw["assessment-results"]["results"][0]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    risks = {r["uuid"]: r for r in result["risks"]}
    observations = {o["uuid"] for o in result["observations"]}
    restart = findings["CC7.5"]
    (link,) = restart["related-risks"]
    risk = risks[link["risk-uuid"]]
    assert risk["status"] == "open"
    (plan,) = risk["remediations"]
    assert plan["lifecycle"] == "planned"
    assert "Fix the failing checks" in plan["description"]
    assert {r["observation-uuid"] for r in risk["related-observations"]} <= observations
    assert "related-risks" not in findings["CC7.1"]  # satisfied: nothing to plan


def test_every_waiver_is_in_the_pack_and_referenced_from_the_oscal(
    unpacked: Path, run_b: Run
) -> None:
    document = json.loads((unpacked / "waivers.json").read_text())
    listed = document["waivers"]
    catalog = run_b.catalog()
    assert len([w for w in listed if w["source"] == "catalog"]) == len(catalog.waivers())
    kinds = {w["kind"] for w in listed}
    assert kinds >= {"security-exception", "inline-skip", "unjudged-slo", "untested-requirement"}
    for waiver in listed:
        assert all(waiver[k] for k in ("reason", "owner", "approver", "ticket", "expires"))
    raw = json.loads((unpacked / "oscal/assessment-results.json").read_text())
    (resource,) = raw["assessment-results"]["back-matter"]["resources"]
    href = resource["rlinks"][0]["href"]
    assert _resolve(unpacked, "oscal/assessment-results.json", href) == unpacked / "waivers.json"
    findings = raw["assessment-results"]["results"][0]["findings"]
    cc81 = next(f for f in findings if f["target"]["target-id"] == "CC8.1")
    assert cc81["links"] == [
        {"href": f"#{resource['uuid']}", "rel": "reference", "text": "waivers"}
    ]
