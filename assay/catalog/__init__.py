"""The catalog: requirements, SLOs, controls, risks and ADRs as typed objects."""

from assay.catalog.model import (
    Adr,
    Catalog,
    CatalogError,
    Comparison,
    Control,
    CouldNotJudge,
    LoadCover,
    Requirement,
    Risk,
    Slo,
    load_catalog,
)

__all__ = [
    "Adr",
    "Catalog",
    "CatalogError",
    "Comparison",
    "Control",
    "CouldNotJudge",
    "LoadCover",
    "Requirement",
    "Risk",
    "Slo",
    "load_catalog",
]
