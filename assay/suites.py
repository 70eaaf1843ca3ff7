"""The suite registry: a suite is a name plus `run(run, target) -> Summary`.

Suites plug in through the `assay.suites` entry-point group in pyproject.toml, e.g.

    [project.entry-points."assay.suites"]
    acceptance = "features.adapter:SUITE"

The object an entry point names is a `Suite`, or a plain function whose docstring's
first line becomes the description. The CLI only ever asks this registry; it never
imports a suite by name, and no suite imports another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from assay.run import Run
from assay.summary import Summary
from assay.target import Target

ENTRY_POINT_GROUP = "assay.suites"

SuiteFunction = Callable[[Run, Target], Summary]
# Set while a suite runs beside others (to their names): a suite that would judge latencies
# measured on this machine measures them only, since its neighbours' load is in them.
BESIDE_ENV = "ASSAY_RUNS_BESIDE"


def _never(target: Target) -> bool:
    return False


class SuiteError(Exception):
    """A suite could not judge the target (its tool crashed or wrote nothing); verdict `error`."""


class UnknownSuiteError(KeyError):
    """No suite is registered under that name."""


@dataclass(frozen=True)
class Suite:
    """A named way to judge a target that writes one summary.json into the run."""

    name: str
    run: SuiteFunction
    description: str = ""
    order: int = 100  # `assay run` with no names runs suites in this order
    # Settings a target that Assay starts itself needs for this suite (e.g. rate limits a load
    # test from one loopback address would trip); a deployed target is configured by its owner.
    managed_env: Mapping[str, str] = field(default_factory=dict)
    # Whether, for this target, the suite judges a target of its own (chaos provisions a stack
    # in place of a local target): `assay run` then runs it beside the suites that judge the
    # run's target, not after them (with BESIDE_ENV set).
    own_target: Callable[[Target], bool] = _never
    # Whether its verdict rests on latencies measured on this machine: `assay run` runs it
    # with nothing beside it.
    judges_latency: bool = False


_registered: dict[str, Suite] = {}


def register(suite: Suite) -> Suite:
    """Register a suite in this process (tests and plugins without an entry point)."""
    _registered[suite.name] = suite
    return suite


def unregister(name: str) -> None:
    """Forget a suite registered with `register` (tests clean up with this)."""
    _registered.pop(name, None)


def _as_suite(name: str, loaded: object) -> Suite:
    if isinstance(loaded, Suite):
        return loaded
    if callable(loaded):
        doc = (getattr(loaded, "__doc__", None) or "").strip().splitlines()
        return Suite(name=name, run=loaded, description=doc[0] if doc else "")
    raise TypeError(f"entry point {name!r} in {ENTRY_POINT_GROUP} is neither a Suite nor callable")


def available() -> dict[str, Suite]:
    """Every suite: installed entry points first, then ones registered in-process, in run order."""
    suites: dict[str, Suite] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        suites[point.name] = _as_suite(point.name, point.load())
    suites.update(_registered)
    return dict(sorted(suites.items(), key=lambda item: (item[1].order, item[0])))


def get(name: str) -> Suite:
    """The suite called `name`."""
    suites = available()
    if name not in suites:
        known = ", ".join(suites) or "none"
        raise UnknownSuiteError(f"no suite {name!r}; registered: {known}")
    return suites[name]
