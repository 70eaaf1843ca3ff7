"""Assay: the harness core shared by every suite (target, run, catalog, SLOs, CLI)."""

__version__ = "0.1.0"
