"""OSCAL assessment results for a pack, built and validated with compliance-trestle.

The results import the plan beside them (`evidence.oscal_plan`). Observations: one per
evidence file, one per check (its verdict) and one per SLO (the measured value against its
objective), each with the system under test as subject and the tool as origin. Every
finding short of satisfied carries a risk with a planned remediation (the plan of action);
the pack's waivers.json is a back-matter resource the findings with waivers link to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trestle.core.base_model import OscalBaseModel
from trestle.core.duplicates_validator import DuplicatesValidator
from trestle.oscal import common as oscal
from trestle.oscal.assessment_results import (
    AssessmentResults,
    ImportAp,
    LocalDefinitions1,
    Result,
)

from assay.catalog import Catalog
from assay.coverage import ControlStanding, ControlState, control_standings
from assay.manifest import EvidenceItem, Manifest
from assay.overall import of_run
from assay.record import Run
from assay.summary import Check, SloResult, Summary
from evidence.oscal_plan import (
    PLAN,
    metadata,
    oscal_uuid,
    service_uuid,
    tool_components,
    tool_uuid,
)

FILENAME = "assessment-results.json"
WAIVERS_HREF = "../waivers.json"


class OscalError(Exception):
    """The assessment results do not validate."""


_uuid = oscal_uuid


def _origin_and_subject(manifest: Manifest, tool: str) -> dict[str, object]:
    return {
        "origins": [
            oscal.Origin(
                actors=[oscal.OriginActor(type="tool", actor_uuid=tool_uuid(manifest, tool))]
            )
        ],
        "subjects": [oscal.SubjectReference(subject_uuid=service_uuid(manifest), type="component")],
    }


def _observation(manifest: Manifest, item: EvidenceItem) -> oscal.Observation:
    props = [oscal.Property(name="sha256", value=item.sha256)]
    if item.tool_version:
        props.append(oscal.Property(name="tool-version", value=item.tool_version))
    props += [oscal.Property(name="control-id", value=c) for c in item.controls]
    props += [oscal.Property(name="requirement-id", value=r) for r in item.requirements]
    return oscal.Observation(
        uuid=_uuid(manifest.run_id, "observation", item.path),
        title=item.path,
        description=f"{item.suite or 'run'} result file {item.path} produced by {item.tool}.",
        props=props,
        methods=[oscal.Methods.TEST],
        collected=item.collected_at,
        expires=item.expires_at,
        relevant_evidence=[
            oscal.RelevantEvidence(href=f"../{item.path}", description=f"sha256 {item.sha256}")
        ],
        **_origin_and_subject(manifest, item.tool),
    )


def _check_observation(
    manifest: Manifest, summary: Summary, check: Check, tool: str
) -> oscal.Observation:
    props = [oscal.Property(name="verdict", value=check.verdict.value)]
    if check.duration_s is not None:
        props.append(oscal.Property(name="duration-s", value=str(check.duration_s)))
    props += [oscal.Property(name="requirement-id", value=r) for r in check.requirements]
    return oscal.Observation(
        uuid=_uuid(manifest.run_id, "check", summary.suite, check.id),
        title=check.id,
        description=f"{summary.suite} check {check.title or check.id}: {check.verdict.value}"
        + (f" ({check.message})" if check.message else "."),
        props=props,
        methods=[oscal.Methods.TEST],
        collected=summary.finished_at,
        relevant_evidence=[
            oscal.RelevantEvidence(href=f"../{path}", description="cited by the check")
            for path in check.evidence
        ]
        or None,
        **_origin_and_subject(manifest, tool),
    )


def _slo_observation(
    manifest: Manifest, summary: Summary, slo: SloResult, tool: str
) -> oscal.Observation:
    scope = f" ({slo.scope})" if slo.scope else ""
    measured = "not measured" if slo.observed is None else f"{slo.observed:g} {slo.unit}"
    props = [
        oscal.Property(name="slo-id", value=slo.id),
        oscal.Property(name="objective", value=f"{slo.objective:g}"),
        oscal.Property(name="unit", value=slo.unit),
        oscal.Property(name="verdict", value=slo.verdict.value),
    ]
    if slo.observed is not None:
        props.append(oscal.Property(name="observed", value=f"{slo.observed:g}"))
    return oscal.Observation(
        uuid=_uuid(manifest.run_id, "slo", summary.suite, slo.id, slo.scope or ""),
        title=f"{slo.id}{scope}",
        description=f"Measured {measured} against an objective of {slo.objective:g} "
        f"{slo.unit}: {slo.verdict.value}.",
        props=props,
        methods=[oscal.Methods.TEST],
        collected=summary.finished_at,
        **_origin_and_subject(manifest, tool),
    )


def _suite_tool(manifest: Manifest, suite: str) -> str:
    tools = [i.tool for i in manifest.items if i.suite == suite and i.tool != "assay"]
    return tools[0] if tools else "assay"


def _risk(
    run_id: str, catalog: Catalog, standing: ControlStanding, observed: list[str]
) -> oscal.Risk:
    control = catalog.controls[standing.control_id]
    known = [r for r in catalog.risks.values() if control.id in r.controls]
    plan = "; ".join(f"{r.id} ({r.owner}): {r.mitigation}" for r in known)
    fix = (
        "Fix the failing checks and re-run"
        if standing.state is ControlState.NOT_SATISFIED and standing.failing
        else "Add or run the checks that give every mapped requirement passing evidence"
    )
    return oscal.Risk(
        uuid=_uuid(run_id, "risk", control.id),
        title=f"{control.id} {control.title} is {standing.state.value}",
        description=standing.reason,
        statement=f"While {control.id} is {standing.state.value}, {control.description[0].lower()}"
        f"{control.description[1:]} is not shown to operate.",
        props=[oscal.Property(name="catalog-risk", value=r.id) for r in known] or None,
        status="open",
        remediations=[
            oscal.Response(
                uuid=_uuid(run_id, "remediation", control.id),
                lifecycle="planned",
                title=f"Plan of action for {control.id}",
                description=f"{fix}." + (f" Catalog mitigations: {plan}." if plan else ""),
            )
        ],
        related_observations=[oscal.RelatedObservation(observation_uuid=u) for u in observed]
        or None,
    )


# Our four states in OSCAL's two: anything short of full, exception-free passes is named in
# the status reason and remarks, and in an `assay-state` property of the finding.
OSCAL_STATE = {
    ControlState.SATISFIED: ("satisfied", oscal.Reason.pass_),
    ControlState.EXCEPTIONS: ("satisfied", oscal.Reason.other),
    ControlState.PARTIAL: ("not-satisfied", oscal.Reason.other),
    ControlState.NOT_SATISFIED: ("not-satisfied", oscal.Reason.fail),
}


def assessment_results(
    run: Run, manifest: Manifest, waivers: list[dict[str, Any]] | None = None
) -> AssessmentResults:
    """Observations of files, checks and SLOs; a finding per control; risks where not met."""
    catalog = run.catalog()
    observations = [_observation(manifest, item) for item in manifest.items]
    by_path = {o.title: o.uuid for o in observations}
    by_check: dict[tuple[str, str], str] = {}
    for suite, summary in sorted(run.summaries.items()):
        tool = _suite_tool(manifest, suite)
        for check in summary.checks:
            seen = _check_observation(manifest, summary, check, tool)
            if (suite, check.id) not in by_check:
                by_check[(suite, check.id)] = seen.uuid
                observations.append(seen)
        observations += [_slo_observation(manifest, summary, slo, tool) for slo in summary.slos]
    waivers_uuid = _uuid(run.run_id, "resource", "waivers")
    findings, risks = [], []
    for control_id, standing in control_standings(run, catalog).items():
        related = [by_path[i.path] for i in manifest.items if control_id in i.controls]
        related += [by_check[(link.suite, link.check.id)] for link in standing.links]
        control = catalog.controls[control_id]
        state, reason = OSCAL_STATE[standing.state]
        waived = [w for w in waivers or [] if control_id in w.get("controls", [])]
        props = [oscal.Property(name="assay-state", value=standing.state.value)]
        props += [oscal.Property(name="waiver", value=str(w["subject"])) for w in waived]
        risk = None
        if standing.state in {ControlState.NOT_SATISFIED, ControlState.PARTIAL}:
            risk = _risk(run.run_id, catalog, standing, related)
            risks.append(risk)
        findings.append(
            oscal.Finding(
                uuid=_uuid(run.run_id, "finding", control_id),
                title=f"{control_id} {control.title}",
                description=standing.reason,
                props=props,
                links=[oscal.Link(href=f"#{waivers_uuid}", rel="reference", text="waivers")]
                if waived
                else None,
                target=oscal.FindingTarget(
                    type=oscal.FindingTargetTypeValidValues.objective_id,
                    target_id=control_id,
                    status=oscal.ObjectiveStatus(
                        state=oscal.ObjectiveStatusStateValidValues(state),
                        reason=reason,
                        remarks=None
                        if standing.state is ControlState.SATISFIED
                        else f"{standing.state.value}: {standing.reason}",
                    ),
                ),
                related_observations=[
                    oscal.RelatedObservation(observation_uuid=u) for u in dict.fromkeys(related)
                ]
                or None,
                related_risks=[oscal.AssociatedRisk(risk_uuid=risk.uuid)] if risk else None,
            )
        )
    verdict = of_run(run)
    result = Result(
        uuid=_uuid(run.run_id, "result"),
        title=f"Assay run {run.run_id}",
        description=(
            f"Automated assessment of {manifest.target_url or 'the target'} version "
            f"{manifest.target_version or 'unknown'} at commit {manifest.git_commit or 'unknown'}."
            f" Overall: {verdict.label}."
        ),
        props=[oscal.Property(name="assay-overall", value=str(verdict.outcome))],
        start=manifest.started_at,
        end=manifest.finished_at,
        local_definitions=LocalDefinitions1(components=tool_components(manifest)),
        reviewed_controls=oscal.ReviewedControls(
            control_selections=[
                oscal.ControlSelections(
                    include_controls=[
                        oscal.SelectControlById(control_id=c) for c in catalog.controls
                    ]
                )
            ]
        ),
        observations=observations or None,
        risks=risks or None,
        findings=findings or None,
    )
    return AssessmentResults(
        uuid=_uuid(run.run_id, "assessment-results"),
        metadata=metadata(
            manifest, f"Assay assessment results for run {run.run_id}", manifest.finished_at
        ),
        import_ap=ImportAp(href=PLAN),
        results=[result],
        back_matter=oscal.BackMatter(
            resources=[
                oscal.Resource(
                    uuid=waivers_uuid,
                    title="Waivers in force for this run (owner, approver, ticket, expiry)",
                    rlinks=[oscal.Rlink(href=WAIVERS_HREF, media_type="application/json")],
                )
            ]
        ),
    )


def to_json(document: OscalBaseModel) -> bytes:
    """Serialize, re-read through the document's trestle model and check for duplicate uuids."""
    data = document.oscal_serialize_json_bytes(pretty=True)
    (body,) = json.loads(data).values()
    reread = type(document).model_validate(body)
    if not DuplicatesValidator().model_is_valid(reread, quiet=True):
        raise OscalError(f"{type(document).__name__} repeats a uuid")
    return data + b"\n"


def validate_file(path: Path) -> AssessmentResults:
    """Read an assessment-results file through trestle; raise OscalError if it is not valid."""
    results = AssessmentResults.oscal_read(path)
    if not isinstance(results, AssessmentResults) or not DuplicatesValidator().model_is_valid(
        results, quiet=True
    ):
        raise OscalError(f"{path}: not valid OSCAL assessment results")
    return results
