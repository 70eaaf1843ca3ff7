"""`assay catalog check` demands complete waivers: owner, approver, reason, ticket, expiry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assay.catalog import load_catalog
from assay.catalog.check import check_catalog
from assay.catalog.model import CATALOG_DIR, WaiverKind

TODAY = date(2026, 12, 1)
TERMS = "owner: platform, approver: security, ticket: SEC-1, expires: 2027-01-01"
CATALOG = f"""requirements:
  - {{id: REQ-A-001, title: "Waived", seed: ["1"], controls: [CC1], slos: [SLO-X],
     untested_reason: "needs hardware", waiver: {{{TERMS}}}}}
controls:
  - {{id: CC1, title: Control, description: d, evidence: [perf], freshness_days: 7}}
slos:
  - {{id: SLO-X, title: X, sli: x, objective: 1, unit: ms, comparison: lt, window: 5m}}
exceptions:
  - {{tool: secrets, rule: Secret Keyword, path: a.py, reason: "a documented public test value",
     {TERMS}}}
inline_skips:
  - {{tool: checkov, rule: CKV_AWS_1, path: infra/*, reason: "public bucket by design", {TERMS}}}
unjudged_slos:
  - {{shape: smoke, slo: SLO-X, reason: "too short to judge", {TERMS}}}
could_not_judge:
  - {{tool: pip-audit, condition: vulnerability-database-unreachable,
     reason: "no vulnerability database from this network", {TERMS}}}
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with one waiver of every kind, each complete, each used."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "infra" / "tf").mkdir(parents=True)
    (tmp_path / "infra" / "tf" / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  #checkov:skip=CKV_AWS_1:public by design\n}\n'
    )
    (tmp_path / "perf").mkdir()
    (tmp_path / "perf" / "profiles.yaml").write_text(
        "shapes:\n  smoke:\n    stages: [{rps: 1, duration_s: 1}]\n    unjudged:\n"
        "      SLO-X: too short\n"
    )
    return tmp_path


def check(root: Path, text: str | None = None):  # type: ignore[no-untyped-def]
    if text is not None:
        (root / "catalog" / "catalog.yaml").write_text(text)
    return check_catalog(root, load_catalog(root / "catalog"), today=TODAY)


def test_complete_waivers_of_every_kind_pass(checkout: Path) -> None:
    report = check(checkout)
    assert report.ok, report.errors
    assert not report.warnings
    kinds = {w.kind for w in load_catalog(checkout / "catalog").waivers()}
    assert kinds == set(WaiverKind)


@pytest.mark.parametrize("field", ["owner", "approver", "ticket", "expires"])
def test_a_waiver_without_a_term_fails(checkout: Path, field: str) -> None:
    terms = ", ".join(t for t in TERMS.split(", ") if not t.startswith(field))
    report = check(checkout, CATALOG.replace(f"waiver: {{{TERMS}}}", f"waiver: {{{terms}}}"))
    assert report.errors == [f"waiver untested-requirement REQ-A-001: no {field}"]


def test_an_untested_requirement_without_waiver_terms_fails(checkout: Path) -> None:
    report = check(checkout, CATALOG.replace(f", waiver: {{{TERMS}}}", ""))
    assert report.errors == [
        "waiver untested-requirement REQ-A-001: no owner, approver, ticket, expires"
    ]


def test_a_self_approved_or_expired_waiver_fails(checkout: Path) -> None:
    text = CATALOG.replace(
        'reason: "too short to judge", owner: platform, approver: security',
        'reason: "too short to judge", owner: platform, approver: platform',
    )
    report = check(checkout, text)
    assert report.errors == [
        "waiver unjudged-slo SLO-X in perf shape smoke: approved by its own owner platform"
    ]
    (checkout / "catalog" / "catalog.yaml").write_text(CATALOG)
    late = check_catalog(checkout, load_catalog(checkout / "catalog"), today=date(2027, 1, 2))
    assert len(late.errors) == 5  # every waiver in the catalog, one of each kind
    assert all(e.endswith("expired on 2027-01-01") for e in late.errors)


def test_a_security_exception_without_an_approver_fails(checkout: Path) -> None:
    text = CATALOG.replace(
        '"a documented public test value",\n     owner: platform, approver: security,',
        '"a documented public test value",\n     owner: platform,',
    )
    report = check(checkout, text)
    assert report.errors == [
        "waiver security-exception secrets Secret Keyword in a.py: no approver"
    ]


def test_an_inline_skip_nobody_registered_fails(checkout: Path) -> None:
    (checkout / "infra" / "tf" / "other.tf").write_text("#checkov:skip=CKV_AWS_2:because\n")
    (checkout / "infra" / "chart.tpl").write_text("checkov.io/skip1: CKV_K8S_9=because\n")
    (checkout / "tests").mkdir()
    (checkout / "tests" / "x.py").write_text("eval(input())  # nosec B307\n")
    report = check(checkout)
    assert report.errors == [
        "infra/tf/other.tf:1: inline checkov skip CKV_AWS_2 is not registered in inline_skips "
        "(security-exceptions.yaml)",
        "infra/chart.tpl:1: inline checkov skip CKV_K8S_9 is not registered in inline_skips "
        "(security-exceptions.yaml)",
        "tests/x.py:1: inline bandit skip B307 is not registered in inline_skips "
        "(security-exceptions.yaml)",
    ]


def test_an_unjudged_slo_without_a_waiver_fails_and_a_stale_one_warns(checkout: Path) -> None:
    (checkout / "perf" / "profiles.yaml").write_text(
        "shapes:\n  soak:\n    stages: [{rps: 1, duration_s: 1}]\n    unjudged:\n"
        "      SLO-X: too long\n"
    )
    (checkout / "infra" / "tf" / "main.tf").write_text("# no skips left\n")
    report = check(checkout)
    assert report.errors == [
        "perf/profiles.yaml: shape soak leaves SLO-X unjudged without an unjudged_slos waiver "
        "in the catalog"
    ]
    assert report.warnings == [
        "inline_skips: checkov CKV_AWS_1 in infra/* skips nothing",
        "unjudged_slos: SLO-X in shape smoke is judged now; drop it",
    ]


def test_the_shipped_catalog_records_waivers_of_every_kind() -> None:
    waivers = load_catalog(CATALOG_DIR).waivers()
    assert {w.kind for w in waivers} == set(WaiverKind)
    assert all(not w.missing() for w in waivers)
    cache = next(w for w in waivers if w.kind == WaiverKind.UNJUDGED_SLO)
    assert cache.subject == "SLO-CACHE-HIT in perf shape smoke"
    assert "A1.2" in cache.controls
