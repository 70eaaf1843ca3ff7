"""`assay catalog check`: the catalog is consistent and every requirement is tested or waived.

Where tests link to requirements (scanned statically; nothing is imported or run):

- Gherkin (`features/**/*.feature`): `@REQ-...` tags on a Feature, Rule, Scenario or Examples.
- Python tests (`*.py` under the suite folders): `pytest.mark.req("REQ-...", ...)` used as a
  decorator or in `pytestmark`.
- Chaos experiments (`chaos/**/*.json`): requirement ids in the experiment's `"tags"` list.
- Perf (`perf/requirements.yaml`): which requirements each Locust journey exercises:

      journeys:
        browse_catalog: [REQ-CAT-001, REQ-PERF-001]
        checkout: [REQ-ORD-001, REQ-PERF-001, REQ-PERF-002]

Each link has a kind: `acceptance` for Gherkin tags, otherwise the folder it sits in
(`tests/<suite>/` as that suite's kind, other `tests` as `unit`; `contracts` as `contract`,
`infra` as `iac`), `chaos` or `perf`.

A requirement is covered when any link names it. An uncovered requirement is an error
unless the catalog marks it: `untested_reason: "..."` waives it for a stated reason, and
`verified_by: [perf]` says which kinds of test will cover it; while no test of any of
those kinds exists yet in the checkout, it is pending, not an error. As soon as the
first test of that kind lands, the requirement must be linked by one.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from assay.catalog.model import CATALOG_DIR, Catalog, CatalogError, load_catalog
from assay.catalog.waivers import check_waivers

PROJECT_ROOT = CATALOG_DIR.parent.parent
REQ_ID = re.compile(r"^REQ-[A-Z0-9]+-\d{3}$")
TAG = re.compile(r"@(\S+)")

# Folder -> kind of test. Python files are scanned in these folders only (features/ links
# through its Gherkin tags; its Python turns those tags into marks at run time).
PYTHON_KINDS: dict[str, str] = {
    "tests": "unit",
    "contracts": "contract",
    "perf": "perf",
    "chaos": "chaos",
    "evidence": "evidence",
    "reports": "reports",
    "infra": "iac",
    "security": "security",
}
# tests/<folder>/ holds the tests of a suite or tool, and counts as that kind (tests mirror
# the source tree); anything else under tests/ is a unit test.
TESTS_KINDS: dict[str, str] = {
    "contracts": "contract",
    "perf": "perf",
    "chaos": "chaos",
    "infra_local": "chaos",
    "evidence": "evidence",
    "reports": "reports",
    "infra": "iac",
    "security": "security",
}
SKIP_DIRS = {".venv", ".tox", "runs", "__pycache__", "node_modules", ".git"}
PERF_MAPPING = Path("perf/requirements.yaml")


@dataclass(frozen=True)
class Link:
    """One place a test names a catalog id."""

    ident: str
    kind: str
    source: str  # path:line, relative to the root


@dataclass
class CheckReport:
    """Everything `assay catalog check` found; `ok` when there are no errors."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    covered: dict[str, list[Link]] = field(default_factory=dict)
    waived: dict[str, str] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)
    requirement_count: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings allowed)."""
        return not self.errors

    def kinds(self) -> Counter[str]:
        """How many links each kind of test contributes."""
        return Counter(link.kind for link in self.links)


def _walk(root: Path, pattern: str) -> Iterator[Path]:
    for path in sorted(root.rglob(pattern)):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts):
            yield path


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def gherkin_links(root: Path) -> list[Link]:
    """`@REQ-...` tags in `features/**/*.feature` (any tag line)."""
    links: list[Link] = []
    folder = root / "features"
    if not folder.is_dir():
        return links
    for path in _walk(folder, "*.feature"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.strip()
            if not stripped.startswith("@"):
                continue
            for tag in TAG.findall(stripped.split("#", 1)[0]):
                if tag.startswith("REQ-"):
                    links.append(Link(tag, "acceptance", f"{_rel(path, root)}:{number}"))
    return links


def _is_req_mark(node: ast.expr) -> bool:
    # Matches `pytest.mark.req` and `mark.req`.
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "req"
        and (
            (isinstance(node.value, ast.Attribute) and node.value.attr == "mark")
            or (isinstance(node.value, ast.Name) and node.value.id == "mark")
        )
    )


def python_links(root: Path) -> tuple[list[Link], list[str]]:
    """`pytest.mark.req(...)` arguments in Python files of the suite folders; plus parse errors."""
    links: list[Link] = []
    errors: list[str] = []
    for folder, kind in PYTHON_KINDS.items():
        base = root / folder
        if not base.is_dir():
            continue
        for path in _walk(base, "*.py"):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except SyntaxError as exc:
                errors.append(f"{_rel(path, root)}: cannot parse: {exc.msg}")
                continue
            file_kind = kind
            if folder == "tests":
                sub = path.relative_to(base).parts[0]
                file_kind = TESTS_KINDS.get(sub, kind)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _is_req_mark(node.func)):
                    continue
                for arg in node.args:
                    where = f"{_rel(path, root)}:{node.lineno}"
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        links.append(Link(arg.value, file_kind, where))
                    else:
                        errors.append(f"{where}: pytest.mark.req takes literal id strings only")
    return links, errors


def chaos_links(root: Path) -> tuple[list[Link], list[str]]:
    """Requirement ids in chaos experiments' `tags`."""
    links: list[Link] = []
    errors: list[str] = []
    folder = root / "chaos"
    if not folder.is_dir():
        return links, errors
    for path in _walk(folder, "*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            errors.append(f"{_rel(path, root)}: not JSON: {exc}")
            continue
        if not isinstance(data, dict) or "method" not in data:
            continue  # not an experiment (e.g. a journal or settings file)
        for tag in data.get("tags", []):
            if isinstance(tag, str) and tag.startswith("REQ-"):
                links.append(Link(tag, "chaos", _rel(path, root)))
    return links, errors


def perf_links(root: Path) -> tuple[list[Link], list[str]]:
    """Requirement ids per journey in `perf/requirements.yaml` (format in the module docstring)."""
    path = root / PERF_MAPPING
    if not path.is_file():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return [], [f"{PERF_MAPPING}: not YAML: {exc}"]
    journeys = data.get("journeys") if isinstance(data, dict) else None
    if not isinstance(journeys, dict):
        return [], [f"{PERF_MAPPING}: expected a mapping `journeys: {{name: [REQ-...]}}`"]
    links: list[Link] = []
    errors: list[str] = []
    for journey, ids in journeys.items():
        if not isinstance(ids, list):
            errors.append(f"{PERF_MAPPING}: journey {journey!r} must list requirement ids")
            continue
        links.extend(Link(str(i), "perf", f"{PERF_MAPPING}#{journey}") for i in ids)
    return links, errors


def collect_links(root: Path) -> tuple[list[Link], list[str]]:
    """Every link from every kind of test under `root`, plus errors met while reading them."""
    links = gherkin_links(root)
    errors: list[str] = []
    for found, problems in (python_links(root), chaos_links(root), perf_links(root)):
        links.extend(found)
        errors.extend(problems)
    return links, errors


def _cross_references(catalog: Catalog) -> Iterable[str]:
    sections: dict[str, Mapping[str, object]] = {
        "controls": catalog.controls,
        "risks": catalog.risks,
        "adrs": catalog.adrs,
        "slos": catalog.slos,
    }
    for req in catalog.requirements.values():
        if not REQ_ID.match(req.id):
            yield f"requirement id {req.id!r} is not like REQ-ABC-001"
        for section, known in sections.items():
            for ident in getattr(req, section):
                if ident not in known:
                    yield f"{req.id}: links to unknown {section[:-1]} {ident}"
    for risk in catalog.risks.values():
        for ident in risk.controls:
            if ident not in catalog.controls:
                yield f"{risk.id}: links to unknown control {ident}"


def check_catalog(
    root: Path | None = None, catalog: Catalog | None = None, today: date | None = None
) -> CheckReport:
    """Validate the catalog, its waivers and its links from tests under `root` (the checkout)."""
    base = root or PROJECT_ROOT
    report = CheckReport()
    try:
        cat = catalog or load_catalog()
    except CatalogError as exc:
        report.errors.append(str(exc))
        return report
    report.requirement_count = len(cat.requirements)
    report.errors.extend(f"duplicate id {ident}" for ident in cat.duplicates)
    report.errors.extend(_cross_references(cat))
    waiver_errors, waiver_warnings = check_waivers(base, cat, today or datetime.now(UTC).date())
    report.errors.extend(waiver_errors)
    report.warnings.extend(waiver_warnings)

    links, problems = collect_links(base)
    report.errors.extend(problems)
    report.links = links
    known = cat.all_ids()
    for link in links:
        if link.ident not in known:
            report.errors.append(f"{link.source}: unknown id {link.ident}")
        elif link.ident in cat.requirements:
            report.covered.setdefault(link.ident, []).append(link)

    present_kinds = {link.kind for link in links}
    for req in cat.requirements.values():
        expected = req.verified_by
        if req.id in report.covered:
            if req.untested_reason:
                report.warnings.append(f"{req.id}: has tests but still an untested_reason")
            missing = [k for k in expected if k in present_kinds and not _linked(req.id, k, links)]
            for kind in missing:
                report.warnings.append(f"{req.id}: {kind} tests exist but none links it yet")
            continue
        if req.untested_reason:
            report.waived[req.id] = req.untested_reason
        elif expected and not present_kinds.intersection(expected):
            report.pending[req.id] = list(expected)
        elif expected:
            kinds = ", ".join(expected)
            report.errors.append(f"{req.id}: no test links it ({kinds} tests exist now)")
        else:
            report.errors.append(f"{req.id}: no test links it and no untested_reason")
    return report


def _linked(ident: str, kind: str, links: list[Link]) -> bool:
    return any(link.ident == ident and link.kind == kind for link in links)
