"""OSCAL assessment results for a pack, built and validated with compliance-trestle."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from trestle.core.duplicates_validator import DuplicatesValidator
from trestle.oscal import OSCAL_VERSION
from trestle.oscal import common as oscal
from trestle.oscal.assessment_results import AssessmentResults, ImportAp, Result

from assay.coverage import ControlState, control_standings
from assay.manifest import EvidenceItem, Manifest
from assay.record import Run

NAMESPACE = uuid.UUID("8f5b6c8e-7a8d-4a51-9d0e-4f1f2a6b3c11")  # fixed: same run, same uuids
FILENAME = "assessment-results.json"


class OscalError(Exception):
    """The assessment results do not validate."""


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _observation(run_id: str, item: EvidenceItem) -> oscal.Observation:
    props = [oscal.Property(name="sha256", value=item.sha256)]
    props += [oscal.Property(name="control-id", value=c) for c in item.controls]
    props += [oscal.Property(name="requirement-id", value=r) for r in item.requirements]
    return oscal.Observation(
        uuid=_uuid(run_id, "observation", item.path),
        title=item.path,
        description=f"{item.suite or 'run'} result file {item.path} produced by {item.tool}.",
        props=props,
        methods=[oscal.Methods.TEST],
        collected=item.collected_at,
        expires=item.expires_at,
        relevant_evidence=[
            oscal.RelevantEvidence(href=item.path, description=f"sha256 {item.sha256}")
        ],
    )


# Our four states in OSCAL's two: anything short of full, exception-free passes is named in
# the status reason and remarks, and in an `assay-state` property of the finding.
OSCAL_STATE = {
    ControlState.SATISFIED: ("satisfied", oscal.Reason.pass_),
    ControlState.EXCEPTIONS: ("satisfied", oscal.Reason.other),
    ControlState.PARTIAL: ("not-satisfied", oscal.Reason.other),
    ControlState.NOT_SATISFIED: ("not-satisfied", oscal.Reason.fail),
}


def assessment_results(run: Run, manifest: Manifest) -> AssessmentResults:
    """One observation per evidence item, one finding per catalog control."""
    catalog = run.catalog()
    observations = [_observation(run.run_id, item) for item in manifest.items]
    by_path = {o.title: o.uuid for o in observations}
    findings = []
    for control_id, standing in control_standings(run, catalog).items():
        related = [by_path[i.path] for i in manifest.items if control_id in i.controls]
        control = catalog.controls[control_id]
        state, reason = OSCAL_STATE[standing.state]
        findings.append(
            oscal.Finding(
                uuid=_uuid(run.run_id, "finding", control_id),
                title=f"{control_id} {control.title}",
                description=standing.reason,
                props=[oscal.Property(name="assay-state", value=standing.state.value)],
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
                related_observations=[oscal.RelatedObservation(observation_uuid=u) for u in related]
                or None,
            )
        )
    result = Result(
        uuid=_uuid(run.run_id, "result"),
        title=f"Assay run {run.run_id}",
        description=(
            f"Automated assessment of {manifest.target_url or 'the target'} version "
            f"{manifest.target_version or 'unknown'} at commit {manifest.git_commit or 'unknown'}."
        ),
        start=manifest.started_at,
        end=manifest.finished_at,
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
        findings=findings or None,
    )
    return AssessmentResults(
        uuid=_uuid(run.run_id, "assessment-results"),
        metadata=oscal.Metadata(
            title=f"Assay assessment results for run {run.run_id}",
            last_modified=manifest.finished_at,
            version=manifest.target_version or "unknown",
            oscal_version=OSCAL_VERSION,
        ),
        import_ap=ImportAp(href="#assay-test-plan"),
        results=[result],
    )


def to_json(results: AssessmentResults) -> bytes:
    """Serialize, re-read through trestle's model and check for duplicate uuids."""
    data = results.oscal_serialize_json_bytes(pretty=True)
    reread = AssessmentResults.model_validate_json(_unwrap(data))
    if not DuplicatesValidator().model_is_valid(reread, quiet=True):
        raise OscalError("assessment results repeat a uuid")
    return data + b"\n"


def _unwrap(data: bytes) -> bytes:
    return json.dumps(json.loads(data)["assessment-results"]).encode()


def validate_file(path: Path) -> AssessmentResults:
    """Read an assessment-results file through trestle; raise OscalError if it is not valid."""
    results = AssessmentResults.oscal_read(path)
    if not isinstance(results, AssessmentResults) or not DuplicatesValidator().model_is_valid(
        results, quiet=True
    ):
        raise OscalError(f"{path}: not valid OSCAL assessment results")
    return results
