"""Typed catalog objects and the loader; cross-reference checks live in `assay.catalog.check`."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.catalog.errors import ErrorStatuses

CATALOG_DIR = Path(__file__).resolve().parent


class CatalogError(Exception):
    """The catalog files cannot be read or do not fit the schema."""


class Comparison(StrEnum):
    """How an observed value meets an objective."""

    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"

    def holds(self, observed: float, threshold: float) -> bool:
        """Whether `observed` is on the good side of `threshold`."""
        match self:
            case Comparison.LT:
                return observed < threshold
            case Comparison.LTE:
                return observed <= threshold
            case Comparison.GT:
                return observed > threshold
            case Comparison.GTE:
                return observed >= threshold


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str


class Slo(_Entry):
    """A service level objective; the only place its threshold is written."""

    sli: str
    objective: float
    warning: float | None = None
    unit: str
    comparison: Comparison
    window: str
    key: bool = False
    weight: float = 1.0
    seed: list[str] = Field(default_factory=list)

    def met(self, observed: float) -> bool:
        """Whether an observed value meets the objective."""
        return self.comparison.holds(observed, self.objective)

    def comfortable(self, observed: float) -> bool:
        """Whether it also clears the stricter warning threshold (or there is none)."""
        return self.warning is None or self.comparison.holds(observed, self.warning)


class Control(_Entry):
    """A SOC 2 style control and the evidence that shows it operates."""

    description: str
    evidence: list[str] = Field(default_factory=list)  # suite names whose results count
    freshness_days: int
    retention_days: int = 365


class Risk(_Entry):
    """An entry of the seed's risk register."""

    owner: str
    impact: str
    likelihood: str
    mitigation: str
    seed: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)


class Adr(_Entry):
    """An architecture decision record."""

    status: str
    decision: str
    seed: list[str] = Field(default_factory=list)


class WaiverKind(StrEnum):
    """What a waiver leaves unjudged."""

    SECURITY_EXCEPTION = "security-exception"  # a scanner finding accepted in the catalog
    INLINE_SKIP = "inline-skip"  # a scanner rule skipped next to the code (#checkov:skip=...)
    UNJUDGED_SLO = "unjudged-slo"  # an SLO a perf shape measures but does not judge
    UNTESTED_REQUIREMENT = "untested-requirement"  # a requirement no test covers, on purpose
    COULD_NOT_JUDGE = "could-not-judge"  # a named, expected condition a scanner cannot judge in


class WaiverTerms(BaseModel):
    """Who answers for a waiver, who approved it, where it is tracked and when it lapses.

    Optional here so that older run snapshots still load; `assay catalog check` demands all.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str | None = None
    approver: str | None = None
    ticket: str | None = None
    expires: date | None = None


class SecurityException(WaiverTerms):
    """An accepted scanner finding (security-exceptions.yaml `exceptions`)."""

    tool: str
    rule: str
    path: str = "*"
    fingerprint: str = ""
    reason: str


class CouldNotJudge(WaiverTerms):
    """A named condition in which a scanner may leave its check unjudged (`could_not_judge`).

    The only "could not judge" the security gate accepts; any other scanner error fails it.
    """

    tool: str
    condition: str  # e.g. vulnerability-database-unreachable, as the scanner adapter names it
    reason: str

    def applies(self, tool: str, condition: str, today: date) -> bool:
        """Whether it covers this scanner in this condition today (never once expired)."""
        current = self.expires is not None and self.expires >= today
        return current and (self.tool, self.condition) == (tool, condition)


class InlineSkip(WaiverTerms):
    """A scanner rule skipped by a comment in the code (`inline_skips`); path is a glob."""

    tool: str
    rule: str
    path: str
    reason: str


class UnjudgedSlo(WaiverTerms):
    """An SLO a perf shape leaves unjudged (perf/profiles.yaml `unjudged:`), `unjudged_slos`."""

    shape: str
    slo: str
    reason: str


class Waiver(BaseModel):
    """Any of the above in one shape: what is waived, why, by whom, until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: WaiverKind
    subject: str
    reason: str | None
    owner: str | None
    approver: str | None
    ticket: str | None
    expires: date | None
    requirements: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    tool: str | None = None  # the scanner, for security exceptions and inline skips

    def missing(self) -> list[str]:
        """The accountability fields this waiver lacks."""
        fields = ("reason", "owner", "approver", "ticket", "expires")
        return [name for name in fields if not getattr(self, name)]

    def expired(self, on: date) -> bool:
        """Whether the waiver has lapsed by `on` (a waiver without expiry never counts)."""
        return self.expires is None or self.expires < on


class LoadCover(BaseModel):
    """A perf run that can cover a load requirement: its shape and the throughput it reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: str
    min_rps: float = Field(gt=0)  # the run's achieved mean requests per second, at least

    def __str__(self) -> str:
        return f"a {self.shape} run at ≥ {self.min_rps:g} RPS"


class Requirement(_Entry):
    """A requirement drawn from the seed, and what it links to."""

    seed: list[str]
    controls: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    adrs: list[str] = Field(default_factory=list)
    slos: list[str] = Field(default_factory=list)
    # Kinds of test expected to cover it (acceptance, unit, contract, perf, chaos, security,
    # evidence, iac); `assay catalog check` treats it as pending until such tests exist at all.
    verified_by: list[str] = Field(default_factory=list)
    untested_reason: str | None = None
    # Load requirements: only a perf run of one of these shapes and rates is evidence for it.
    covered_by: list[LoadCover] = Field(default_factory=list)
    waiver: WaiverTerms | None = None  # who answers for `untested_reason`


class Catalog(BaseModel):
    """Everything the harness links tests and results to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: dict[str, Requirement]
    slos: dict[str, Slo]
    controls: dict[str, Control]
    risks: dict[str, Risk]
    adrs: dict[str, Adr]
    exceptions: tuple[SecurityException, ...] = ()
    inline_skips: tuple[InlineSkip, ...] = ()
    unjudged_slos: tuple[UnjudgedSlo, ...] = ()
    could_not_judge: tuple[CouldNotJudge, ...] = ()
    errors: ErrorStatuses | None = None  # slos.yaml `errors:`: what the error SLOs count
    duplicates: tuple[str, ...] = ()

    def all_ids(self) -> set[str]:
        """Every id defined anywhere in the catalog."""
        return {
            *self.requirements,
            *self.slos,
            *self.controls,
            *self.risks,
            *self.adrs,
        }

    def slo(self, slo_id: str) -> Slo:
        """The SLO with this id (KeyError names it when absent)."""
        return self.slos[slo_id]

    def waivers(self) -> list[Waiver]:
        """Every waiver the catalog records, of every kind, in one shape."""
        found = [
            _waiver(
                WaiverKind.SECURITY_EXCEPTION,
                f"{e.tool} {e.rule} in {e.path}" + (f" ({e.fingerprint})" if e.fingerprint else ""),
                e.reason,
                e,
            ).model_copy(update={"tool": e.tool})
            for e in self.exceptions
        ]
        found += [
            _waiver(
                WaiverKind.INLINE_SKIP, f"{s.tool} {s.rule} in {s.path}", s.reason, s
            ).model_copy(update={"tool": s.tool})
            for s in self.inline_skips
        ]
        found += [
            _waiver(
                WaiverKind.COULD_NOT_JUDGE, f"{c.tool} when {c.condition}", c.reason, c
            ).model_copy(update={"tool": c.tool})
            for c in self.could_not_judge
        ]
        for u in self.unjudged_slos:
            reqs = sorted(r.id for r in self.requirements.values() if u.slo in r.slos)
            found.append(
                _waiver(
                    WaiverKind.UNJUDGED_SLO, f"{u.slo} in perf shape {u.shape}", u.reason, u, reqs
                ).model_copy(update={"controls": self._controls(reqs)})
            )
        for req in self.requirements.values():
            if req.untested_reason:
                terms = req.waiver or WaiverTerms()
                waiver = _waiver(
                    WaiverKind.UNTESTED_REQUIREMENT, req.id, req.untested_reason, terms, [req.id]
                )
                found.append(waiver.model_copy(update={"controls": sorted(req.controls)}))
        return found

    def _controls(self, requirement_ids: list[str]) -> list[str]:
        return sorted(
            {
                c
                for r in requirement_ids
                if r in self.requirements
                for c in self.requirements[r].controls
            }
        )


def _waiver(
    kind: WaiverKind,
    subject: str,
    reason: str | None,
    terms: WaiverTerms,
    requirements: list[str] | None = None,
) -> Waiver:
    return Waiver(
        kind=kind,
        subject=subject,
        reason=reason,
        owner=terms.owner,
        approver=terms.approver,
        ticket=terms.ticket,
        expires=terms.expires,
        requirements=requirements or [],
    )


# Sections of waivers; their entries have no id of their own.
_WAIVER_SECTIONS: dict[str, type[WaiverTerms]] = {
    "exceptions": SecurityException,
    "inline_skips": InlineSkip,
    "unjudged_slos": UnjudgedSlo,
    "could_not_judge": CouldNotJudge,
}
_SECTIONS: dict[str, type[_Entry]] = {
    "requirements": Requirement,
    "slos": Slo,
    "controls": Control,
    "risks": Risk,
    "adrs": Adr,
}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: expected a mapping of sections at the top")
    return data


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load every `*.yaml` in the catalog folder; duplicate ids are kept for `check` to report."""
    folder = directory or CATALOG_DIR
    entries: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    waivers: dict[str, list[Any]] = {name: [] for name in _WAIVER_SECTIONS}
    seen: set[str] = set()
    duplicates: list[str] = []
    errors: ErrorStatuses | None = None
    for path in sorted(folder.glob("*.yaml")):
        for section, items in _read(path).items():
            if section == "errors":  # one mapping, not a list: what every error SLO counts
                try:
                    errors = ErrorStatuses.model_validate(items)
                except ValidationError as exc:
                    raise CatalogError(f"{path.name}: errors: {exc}") from exc
                continue
            if (section in _WAIVER_SECTIONS or section in _SECTIONS) and not isinstance(
                items, list
            ):
                raise CatalogError(f"{path.name}: section {section!r} must be a list")
            if section in _WAIVER_SECTIONS:
                waivers[section] += _waiver_entries(path, section, items)
                continue
            model = _SECTIONS.get(section)
            if model is None:
                continue  # files may carry other sections
            for raw in items:
                try:
                    entry = model.model_validate(raw)
                except ValidationError as exc:
                    ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
                    raise CatalogError(f"{path.name}: {section} entry {ident}: {exc}") from exc
                if entry.id in seen:
                    duplicates.append(entry.id)
                seen.add(entry.id)
                entries[section][entry.id] = entry
    return Catalog(
        **entries,
        **{name: tuple(items) for name, items in waivers.items()},
        errors=errors,
        duplicates=tuple(duplicates),
    )


def _waiver_entries(path: Path, section: str, items: list[Any]) -> list[WaiverTerms]:
    model = _WAIVER_SECTIONS[section]
    entries = []
    for number, raw in enumerate(items, start=1):
        try:
            entries.append(model.model_validate(raw))
        except ValidationError as exc:
            raise CatalogError(f"{path.name}: {section} entry {number}: {exc}") from exc
    return entries
