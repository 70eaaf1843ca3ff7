"""Typed catalog objects and the loader; cross-reference checks live in `assay.catalog.check`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class Catalog(BaseModel):
    """Everything the harness links tests and results to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: dict[str, Requirement]
    slos: dict[str, Slo]
    controls: dict[str, Control]
    risks: dict[str, Risk]
    adrs: dict[str, Adr]
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
    seen: set[str] = set()
    duplicates: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        for section, items in _read(path).items():
            model = _SECTIONS.get(section)
            if model is None:
                continue  # files may carry other sections (e.g. security exceptions)
            if not isinstance(items, list):
                raise CatalogError(f"{path.name}: section {section!r} must be a list")
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
    return Catalog(**entries, duplicates=tuple(duplicates))
