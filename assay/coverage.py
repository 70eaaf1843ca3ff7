"""Which checks of a run are evidence, for a requirement or a control: the one linking rule.

The OSCAL results, the freshness audit, the traceability report and the status page all ask
here, so they cannot disagree. The rule:

- a check is linked to a requirement it names, and to a control it names or that one of its
  requirements maps to in the catalog; for a control, only checks of the suites the control
  lists as its `evidence` count (every suite when it lists none);
- skipped is not evidence, and neither is a pass from a perf run smaller than a load
  requirement's `covered_by` (shape and achieved rate), though a failure at a lower load is
  a failure; links that are not evidence are kept, with why they do not count;
- a control is satisfied only on passes. Warnings and waivers make it satisfied with
  exceptions, named; a requirement mapped to it without passing evidence in the run makes
  it partial; any failing check, or no evidence at all, leaves it not satisfied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from assay.catalog import Catalog, Requirement
from assay.record import Run
from assay.summary import Check, Summary, Verdict

FAILING = frozenset({Verdict.FAIL, Verdict.ERROR})


class Standing(StrEnum):
    """A requirement's standing in one run."""

    PASS = "pass"  # noqa: S105 - a standing, not a password
    EXCEPTIONS = "pass-with-exceptions"  # passed, but with warnings
    FAIL = "fail"
    UNJUDGED = "unjudged"  # linked checks ran, none of them is evidence (skipped, too small)
    NO_TEST = "no-test"


class ControlState(StrEnum):
    """A control's state in one run."""

    SATISFIED = "satisfied"
    EXCEPTIONS = "satisfied-with-exceptions"
    PARTIAL = "partial"
    NOT_SATISFIED = "not-satisfied"


@dataclass(frozen=True)
class Link:
    """A check linked to a requirement or control, and whether it is evidence for it."""

    suite: str
    summary: Summary
    check: Check
    why_not: str = ""  # empty: it counts

    @property
    def counts(self) -> bool:
        """Whether the check is evidence."""
        return not self.why_not

    @property
    def finished_at(self) -> datetime:
        """When the suite that ran the check finished."""
        return self.summary.finished_at

    @property
    def waived(self) -> list[str]:
        """The waivers the suite applied to this check, each named."""
        return [
            f"{w.check} waived ({w.condition}): {w.reason}; owner {w.owner}, "
            f"approved by {w.approver}, {w.ticket}, expires {w.expires.isoformat()}"
            for w in self.summary.waivers
            if w.check == self.check.id
        ]


def load_gap(requirement: Requirement, summary: Summary) -> str:
    """Why a run of this suite cannot cover a load requirement ('' when it can)."""
    if not requirement.covered_by:
        return ""
    shape = summary.metrics.get("shape")
    rate = summary.metrics.get("achieved_rps")
    achieved = rate if isinstance(rate, int | float) and not isinstance(rate, bool) else None
    for cover in requirement.covered_by:
        if shape == cover.shape and achieved is not None and achieved >= cover.min_rps:
            return ""
    ran = (
        f"a {shape or 'load'} run at {achieved:g} RPS"
        if achieved is not None
        else (f"a {shape or summary.suite} run with no achieved rate recorded")
    )
    needs = " or ".join(str(c) for c in requirement.covered_by)
    return f"{ran} cannot cover {requirement.id}: it needs {needs}"


def why_not_evidence(check: Check, summary: Summary, requirements: list[Requirement]) -> str:
    """Why a check is not evidence for these requirements ('' when it is)."""
    if check.verdict is Verdict.SKIPPED:
        return f"skipped: {check.message}" if check.message else "skipped"
    if requirements and check.verdict not in FAILING:  # a miss at a lower load is a miss
        gaps = [load_gap(r, summary) for r in requirements]
        if all(gaps):
            return "; ".join(gaps)
    return ""


def requirement_links(run: Run, catalog: Catalog, requirement_id: str) -> list[Link]:
    """Every check of the run that names the requirement, evidence or not."""
    requirement = catalog.requirements.get(requirement_id)
    found = []
    for suite, summary in sorted(run.summaries.items()):
        for check in summary.checks:
            if requirement_id in check.requirements:
                reqs = [requirement] if requirement is not None else []
                found.append(Link(suite, summary, check, why_not_evidence(check, summary, reqs)))
    return found


def control_links(run: Run, catalog: Catalog, control_id: str) -> list[Link]:
    """Every check of the control's evidence suites linked to it, evidence or not."""
    control = catalog.controls[control_id]
    found = []
    for suite, summary in sorted(run.summaries.items()):
        if control.evidence and suite not in control.evidence:
            continue
        for check in summary.checks:
            mapped = [
                catalog.requirements[r]
                for r in check.requirements
                if r in catalog.requirements and control_id in catalog.requirements[r].controls
            ]
            if mapped or control_id in check.controls:
                found.append(Link(suite, summary, check, why_not_evidence(check, summary, mapped)))
    return found


@dataclass(frozen=True)
class RequirementStanding:
    """How one requirement stands in one run, and why."""

    requirement_id: str
    standing: Standing
    reason: str
    links: list[Link] = field(default_factory=list)


def _names(links: Iterable[Link], limit: int = 5) -> str:
    names = [link.check.id for link in links]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def requirement_standing(run: Run, catalog: Catalog, requirement_id: str) -> RequirementStanding:
    """Pass only on passing evidence; skipped or too-small runs leave it unjudged."""
    links = requirement_links(run, catalog, requirement_id)
    counted = [link for link in links if link.counts]
    if not links:
        requirement = catalog.requirements.get(requirement_id)
        why = requirement.untested_reason if requirement else None
        reason = "no check in this run is linked to it" + (f" ({why})" if why else "")
        return RequirementStanding(requirement_id, Standing.NO_TEST, reason)
    if not counted:
        reason = "no linked check is evidence: " + "; ".join(_unique(k.why_not for k in links))
        return RequirementStanding(requirement_id, Standing.UNJUDGED, reason, links)
    failing = [link for link in counted if link.check.verdict in FAILING]
    if failing:
        reason = f"{len(failing)} of {len(counted)} linked checks failed: {_names(failing)}"
        return RequirementStanding(requirement_id, Standing.FAIL, reason, links)
    warned = [link for link in counted if link.check.verdict is Verdict.WARNING]
    if warned:
        reason = f"passed with warnings: {_names(warned)}"
        return RequirementStanding(requirement_id, Standing.EXCEPTIONS, reason, links)
    return RequirementStanding(
        requirement_id, Standing.PASS, f"all {len(counted)} linked checks passed", links
    )


@dataclass(frozen=True)
class ControlStanding:
    """How one control stands in one run: state, why, and what it rests on."""

    control_id: str
    state: ControlState
    reason: str
    links: list[Link] = field(default_factory=list)  # the evidence (counted links)
    failing: int = 0
    exceptions: list[str] = field(default_factory=list)  # warnings and waivers, named
    gaps: list[str] = field(default_factory=list)  # mapped requirements without passing evidence

    @property
    def has_evidence(self) -> bool:
        """Whether any check of the run is evidence for the control."""
        return bool(self.links)


def _gap(requirement: Requirement, links: list[Link]) -> str:
    mine = [link for link in links if requirement.id in link.check.requirements]
    why_not = [why_not_evidence(link.check, link.summary, [requirement]) for link in mine]
    if not mine:
        why = f": {requirement.untested_reason}" if requirement.untested_reason else ""
        return f"{requirement.id} (no test in this run{why})"
    if any(not why for why in why_not):
        return ""  # evidence, passing or failing (a failure is reported as such, not as a gap)
    return f"{requirement.id} ({'; '.join(_unique(why_not))})"


def control_standing(run: Run, catalog: Catalog, control_id: str) -> ControlStanding:
    """Satisfied only on passes and full coverage of the control's requirements."""
    links = control_links(run, catalog, control_id)
    counted = [link for link in links if link.counts]
    exceptions = [
        f"{link.check.id}: warning" + (f" ({link.check.message})" if link.check.message else "")
        for link in counted
        if link.check.verdict is Verdict.WARNING
    ]
    exceptions += [text for link in links for text in link.waived]
    mapped = [r for r in catalog.requirements.values() if control_id in r.controls]
    gaps = _unique(_gap(r, links) for r in mapped)
    failing = [link for link in counted if link.check.verdict in FAILING]

    def standing(state: ControlState, reason: str) -> ControlStanding:
        return ControlStanding(control_id, state, reason, counted, len(failing), exceptions, gaps)

    if not counted:
        skipped = len(links)
        reason = "No check in this run produced evidence for it" + (
            f" ({skipped} linked checks ran but are not evidence: skipped or too small)."
            if skipped
            else "."
        )
        return standing(ControlState.NOT_SATISFIED, reason)
    if failing:
        reason = f"{len(failing)} of {len(counted)} linked checks failed: {_names(failing)}."
        return standing(ControlState.NOT_SATISFIED, reason)
    named = f" Exceptions: {'; '.join(exceptions)}." if exceptions else ""
    if gaps:
        reason = (
            f"{len(counted)} linked checks passed, but {len(gaps)} of {len(mapped)} mapped "
            f"requirements have no passing evidence: {'; '.join(gaps)}.{named}"
        )
        return standing(ControlState.PARTIAL, reason)
    if exceptions:
        reason = f"{len(counted)} linked checks passed, with exceptions: {'; '.join(exceptions)}."
        return standing(ControlState.EXCEPTIONS, reason)
    reason = f"All {len(counted)} linked checks passed."
    return standing(ControlState.SATISFIED, reason)


def control_standings(run: Run, catalog: Catalog) -> dict[str, ControlStanding]:
    """Every catalog control's standing in the run."""
    return {c: control_standing(run, catalog, c) for c in catalog.controls}
