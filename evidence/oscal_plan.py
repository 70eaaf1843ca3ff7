"""The OSCAL documents the assessment results import: the plan and the system's components.

In the pack (`oscal/`): `component-definition.json` describes the system under test (one
component, the catalog's controls as its implemented requirements); `assessment-plan.json`
names the parties and roles, the controls reviewed, the subject (that component), one task
per suite and the tools; the plan's `import-ssp` resolves, through a back-matter resource,
to the component definition. `assessment-results.json` imports the plan.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from trestle.oscal import OSCAL_VERSION
from trestle.oscal import common as oscal
from trestle.oscal.assessment_plan import AssessmentPlan, LocalDefinitions
from trestle.oscal.component import (
    ComponentDefinition,
    ControlImplementation,
    DefinedComponent,
    ImplementedRequirement,
)

from assay.catalog import Catalog
from assay.manifest import Manifest

NAMESPACE = uuid.UUID("8f5b6c8e-7a8d-4a51-9d0e-4f1f2a6b3c11")  # fixed: same run, same uuids
PLAN = "assessment-plan.json"
COMPONENTS = "component-definition.json"
ASSESSOR, OWNER = "assessor", "system-owner"


def oscal_uuid(*parts: str) -> str:
    """A uuid fixed by its parts, so the same run gives the same documents."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def service_uuid(manifest: Manifest) -> str:
    """The component that stands for the system under test."""
    return oscal_uuid(manifest.run_id, "component", "system-under-test")


def tool_uuid(manifest: Manifest, tool: str) -> str:
    """The component that stands for one tool that produced evidence."""
    return oscal_uuid(manifest.run_id, "tool", tool)


def tools(manifest: Manifest) -> dict[str, str | None]:
    """Each tool that produced an item, with its version (None when it was not recorded)."""
    found: dict[str, str | None] = {}
    for item in manifest.items:
        found[item.tool] = found.get(item.tool) or item.tool_version
    return dict(sorted(found.items()))


def tool_components(manifest: Manifest) -> list[oscal.SystemComponent]:
    """The tools as software components, the actors behind each observation's origin."""
    return [
        oscal.SystemComponent(
            uuid=tool_uuid(manifest, tool),
            type="software",
            title=tool,
            description=f"{tool} {version or '(version not recorded)'}, run by Assay.",
            props=[oscal.Property(name="version", value=version)] if version else None,
            status=oscal.Status(state="operational"),
        )
        for tool, version in tools(manifest).items()
    ]


def metadata(manifest: Manifest, title: str, last_modified: datetime) -> oscal.Metadata:
    """Metadata with the parties and roles: Assay (and the run's actor) assess; the owner owns."""
    assessor = oscal_uuid(manifest.run_id, "party", ASSESSOR)
    owner = oscal_uuid(manifest.run_id, "party", OWNER)
    target = f"{manifest.target_kind or 'unknown'} target {manifest.target_url or '(unnamed)'}"
    parties = [
        oscal.Parties(uuid=assessor, type="organization", name="Assay automated assessment"),
        oscal.Parties(uuid=owner, type="organization", name=f"Owner of the {target}"),
    ]
    assessors = [assessor]
    actor = manifest.provenance.actor
    if actor:
        run_by = oscal_uuid(manifest.run_id, "party", "actor", actor)
        where = manifest.provenance.ci_run_id or manifest.provenance.host or "local"
        parties.append(
            oscal.Parties(
                uuid=run_by,
                type="person",
                name=actor,
                remarks=f"Started the run ({manifest.provenance.ci or 'local'} {where}).",
            )
        )
        assessors.append(run_by)
    return oscal.Metadata(
        title=title,
        last_modified=last_modified,
        version=manifest.target_version or "unknown",
        oscal_version=OSCAL_VERSION,
        roles=[
            oscal.Role(id=ASSESSOR, title="Assessor"),
            oscal.Role(id=OWNER, title="System owner"),
        ],
        parties=parties,
        responsible_parties=[
            oscal.ResponsibleParty(role_id=ASSESSOR, party_uuids=assessors),
            oscal.ResponsibleParty(role_id=OWNER, party_uuids=[owner]),
        ],
    )


def component_definition(manifest: Manifest, catalog: Catalog) -> ComponentDefinition:
    """The system under test as one component implementing the catalog's controls."""
    catalog_resource = oscal_uuid(manifest.run_id, "resource", "catalog")
    service = DefinedComponent(
        uuid=service_uuid(manifest),
        type="service",
        title=f"System under test ({manifest.target_url or 'unnamed target'})",
        description=(
            f"The {manifest.target_kind or 'unknown'} target at {manifest.target_url or '?'}, "
            f"version {manifest.target_version or 'unknown'}, commit "
            f"{manifest.git_commit or 'unknown'}."
        ),
        control_implementations=[
            ControlImplementation(
                uuid=oscal_uuid(manifest.run_id, "control-implementation"),
                source=f"#{catalog_resource}",
                description="Controls of the Assay catalog the run was made under.",
                implemented_requirements=[
                    ImplementedRequirement(
                        uuid=oscal_uuid(manifest.run_id, "implemented", control.id),
                        control_id=control.id,
                        description=control.description,
                    )
                    for control in catalog.controls.values()
                ],
            )
        ],
    )
    return ComponentDefinition(
        uuid=oscal_uuid(manifest.run_id, "component-definition"),
        metadata=metadata(manifest, "The system under test", manifest.started_at),
        components=[service],
        back_matter=oscal.BackMatter(
            resources=[
                oscal.Resource(
                    uuid=catalog_resource,
                    title="Assay catalog (controls)",
                    rlinks=[oscal.Rlink(href="../catalog/controls.yaml")],
                )
            ]
        ),
    )


def assessment_plan(manifest: Manifest, catalog: Catalog, suites: list[str]) -> AssessmentPlan:
    """What is assessed (the component), against which controls, by which tasks and tools."""
    system = oscal_uuid(manifest.run_id, "resource", "system-under-test")
    return AssessmentPlan(
        uuid=oscal_uuid(manifest.run_id, "assessment-plan"),
        metadata=metadata(
            manifest, f"Assay assessment plan for run {manifest.run_id}", manifest.started_at
        ),
        import_ssp=oscal.ImportSsp(
            href=f"#{system}", remarks=f"The system is described by {COMPONENTS}."
        ),
        local_definitions=LocalDefinitions(components=tool_components(manifest)),
        reviewed_controls=oscal.ReviewedControls(
            control_selections=[
                oscal.ControlSelections(
                    include_controls=[
                        oscal.SelectControlById(control_id=c) for c in catalog.controls
                    ]
                )
            ]
        ),
        assessment_subjects=[
            oscal.AssessmentSubjectSpecific(
                type="component",
                include_subjects=[
                    oscal.SelectSubjectById(subject_uuid=service_uuid(manifest), type="component")
                ],
            )
        ],
        tasks=[
            oscal.Task(
                uuid=oscal_uuid(manifest.run_id, "task", suite),
                type="action",
                title=f"Run the {suite} suite",
                description=f"`assay run {suite}` against the target; results in {suite}/.",
            )
            for suite in suites
        ]
        or None,
        back_matter=oscal.BackMatter(
            resources=[
                oscal.Resource(
                    uuid=system,
                    title="System under test: component definition",
                    rlinks=[oscal.Rlink(href=COMPONENTS, media_type="application/oscal+json")],
                )
            ]
        ),
    )
