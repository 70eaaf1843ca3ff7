"""The generator registry: what turns a finished run into artefacts (evidence pack, reports).

Generators read the run directory only. They plug in through the `assay.generators`
entry-point group, like suites, so `assay run` builds them without importing their folders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

ENTRY_POINT_GROUP = "assay.generators"


class GeneratorError(Exception):
    """A generator could not build its artefacts from the run; the message says why."""


@dataclass(frozen=True)
class Generator:
    """A named step that reads a run directory and writes artefacts into it."""

    name: str
    build: Callable[[Path], list[Path]]
    description: str = ""
    order: int = 100


def available() -> list[Generator]:
    """Installed generators, in build order (evidence before the reports that cite it)."""
    found: list[Generator] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        loaded = point.load()
        if not isinstance(loaded, Generator):
            raise TypeError(f"entry point {point.name} is not an assay Generator")
        found.append(loaded)
    return sorted(found, key=lambda g: (g.order, g.name))
