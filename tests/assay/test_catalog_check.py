"""`assay catalog check`: passes on this checkout, fails for each wrong reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.catalog.check import PROJECT_ROOT, check_catalog
from assay.catalog.model import CATALOG_DIR

REQS = """requirements:
  - {id: REQ-A-001, title: "Tested by Gherkin", seed: ["1"], controls: [CC1]}
  - {id: REQ-B-001, title: "Tested by pytest", seed: ["1"]}
  - {id: REQ-C-001, title: "Waived", seed: ["1"], untested_reason: "needs hardware (issue 9)",
     waiver: {owner: qa, approver: compliance, ticket: QA-9, expires: 2099-01-01}}
  - {id: REQ-D-001, title: "Perf will test it", seed: ["1"], verified_by: [perf]}
controls:
  - {id: CC1, title: Control, description: d, evidence: [acceptance], freshness_days: 7}
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal checkout: one catalog file and tests that link every requirement it must."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "requirements.yaml").write_text(REQS)
    (tmp_path / "features" / "shop").mkdir(parents=True)
    (tmp_path / "features" / "shop" / "a.feature").write_text(
        "@REQ-A-001\nFeature: A\n\n  @slow\n  Scenario: s\n    Given x\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_b.py").write_text(
        'import pytest\n\n@pytest.mark.req("REQ-B-001")\ndef test_b() -> None:\n    assert True\n'
    )
    return tmp_path


def run(root: Path):  # type: ignore[no-untyped-def]
    return check_catalog(root, load_catalog(root / "catalog"))


def test_this_checkout_passes() -> None:
    report = check_catalog(PROJECT_ROOT)
    assert report.ok, report.errors
    assert report.kinds()["acceptance"] > 0


def test_every_requirement_is_tested_pending_or_waived(checkout: Path) -> None:
    report = run(checkout)
    assert report.ok, report.errors
    assert set(report.covered) == {"REQ-A-001", "REQ-B-001"}
    assert report.waived == {"REQ-C-001": "needs hardware (issue 9)"}
    assert report.pending == {"REQ-D-001": ["perf"]}


def test_an_untested_requirement_without_a_reason_fails(checkout: Path) -> None:
    (checkout / "tests" / "test_b.py").unlink()
    report = run(checkout)
    assert report.errors == ["REQ-B-001: no test links it and no untested_reason"]


def test_a_pending_requirement_fails_once_its_kind_of_test_exists(checkout: Path) -> None:
    (checkout / "perf").mkdir()
    (checkout / "perf" / "requirements.yaml").write_text("journeys:\n  browse: [REQ-A-001]\n")
    report = run(checkout)
    assert report.errors == ["REQ-D-001: no test links it (perf tests exist now)"]
    (checkout / "perf" / "requirements.yaml").write_text("journeys:\n  browse: [REQ-D-001]\n")
    assert run(checkout).ok


def test_unknown_ids_in_tags_marks_and_experiments_fail(checkout: Path) -> None:
    (checkout / "features" / "shop" / "b.feature").write_text(
        "Feature: B\n  @REQ-ZZZ-404\n  Scenario: s\n"
    )
    (checkout / "tests" / "test_c.py").write_text(
        'import pytest\npytestmark = pytest.mark.req("REQ-NOPE-001")\n'
    )
    (checkout / "chaos").mkdir()
    (checkout / "chaos" / "kill.json").write_text(
        json.dumps({"method": [], "tags": ["REQ-GONE-001", "db"]})
    )
    errors = run(checkout).errors
    assert "features/shop/b.feature:2: unknown id REQ-ZZZ-404" in errors
    assert "tests/test_c.py:2: unknown id REQ-NOPE-001" in errors
    assert "chaos/kill.json: unknown id REQ-GONE-001" in errors


def test_duplicate_ids_fail(checkout: Path) -> None:
    (checkout / "catalog" / "more.yaml").write_text(
        'requirements:\n  - {id: REQ-A-001, title: "Again", seed: ["2"]}\n'
    )
    assert "duplicate id REQ-A-001" in run(checkout).errors


def test_links_to_unknown_controls_risks_adrs_and_slos_fail(checkout: Path) -> None:
    (checkout / "catalog" / "requirements.yaml").write_text(
        REQS.replace(
            "controls: [CC1]}", "controls: [CC9], risks: [RISK-9], adrs: [ADR-9], slos: [SLO-9]}"
        )
    )
    errors = run(checkout).errors
    for message in (
        "REQ-A-001: links to unknown control CC9",
        "REQ-A-001: links to unknown risk RISK-9",
        "REQ-A-001: links to unknown adr ADR-9",
        "REQ-A-001: links to unknown slo SLO-9",
    ):
        assert message in errors


def test_non_literal_requirement_marks_fail(checkout: Path) -> None:
    (checkout / "tests" / "test_d.py").write_text(
        'import pytest\nX = "REQ-B-001"\n@pytest.mark.req(X)\ndef test_d(): ...\n'
    )
    assert (
        "tests/test_d.py:3: pytest.mark.req takes literal id strings only" in run(checkout).errors
    )


def test_the_shipped_catalog_loads_into_typed_objects(tmp_path: Path) -> None:
    shutil.copytree(
        CATALOG_DIR, tmp_path / "catalog", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    catalog = load_catalog(tmp_path / "catalog")
    assert catalog.slo("SLO-LATENCY-P95").objective == 300
    assert catalog.requirements["REQ-ORD-005"].controls == ["PI1.3", "CC8.1"]
    assert not catalog.duplicates
