"""One linking rule: which checks of a run are evidence for a requirement or a control."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from assay.catalog import Catalog, load_catalog
from assay.coverage import (
    ControlState,
    Standing,
    control_links,
    control_standing,
    requirement_standing,
)
from assay.record import Run, RunRecord
from assay.summary import Check, Summary, Verdict, WaiverUse

AT = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def check(ident: str, verdict: Verdict, *reqs: str, controls: tuple[str, ...] = ()) -> Check:
    return Check(id=ident, verdict=verdict, requirements=list(reqs), controls=list(controls))


def summary(suite: str, checks: list[Check], **extra: Any) -> Summary:
    return Summary(
        suite=suite,
        verdict=Verdict.PASS,
        started_at=AT,
        finished_at=AT,
        duration_s=1.0,
        checks=checks,
        **extra,
    )


def run_of(*summaries: Summary) -> Run:
    record = RunRecord(run_id="20261126T060000Z-abcdef", started_at=AT, finished_at=AT)
    return Run(path=Path("/nonexistent"), record=record, summaries={s.suite: s for s in summaries})


def test_a_requirement_whose_every_check_was_skipped_is_unjudged(catalog: Catalog) -> None:
    run = run_of(
        summary(
            "acceptance",
            [
                Check(
                    id="admin/roles.feature::Customers cannot call admin endpoints",
                    verdict=Verdict.SKIPPED,
                    requirements=["REQ-SEC-002"],
                    message="needs the target's admin account",
                ),
                check(
                    "admin/roles.feature::Roles cannot be self-assigned",
                    Verdict.SKIPPED,
                    "REQ-SEC-002",
                ),
            ],
        )
    )
    standing = requirement_standing(run, catalog, "REQ-SEC-002")
    assert standing.standing is Standing.UNJUDGED
    assert "skipped: needs the target's admin account" in standing.reason
    control = control_standing(run, catalog, "CC6.1")
    assert control.state is ControlState.NOT_SATISFIED
    assert not control.has_evidence


def test_a_control_is_satisfied_only_on_passes_warnings_are_named_exceptions(
    catalog: Catalog,
) -> None:
    run = run_of(
        summary(
            "chaos",
            [check("chaos/restart-database", Verdict.WARNING, "REQ-RES-002")],
        )
    )
    standing = control_standing(run, catalog, "CC7.5")
    assert standing.state is ControlState.EXCEPTIONS
    assert standing.exceptions == ["chaos/restart-database: warning"]
    assert "with exceptions: chaos/restart-database: warning" in standing.reason


def test_a_waiver_is_an_exception_with_its_owner_and_expiry(catalog: Catalog) -> None:
    waiver = WaiverUse(
        check="security/pip-audit",
        condition="vulnerability-database-unreachable",
        reason="no vulnerability database is reachable from this network",
        owner="security",
        approver="ciso",
        ticket="SEC-42",
        expires=date(2027, 6, 30),
    )
    run = run_of(
        summary(
            "security",
            [
                check("security/bandit", Verdict.PASS, "REQ-IAC-001"),
                check("security/pip-audit", Verdict.SKIPPED, "REQ-IAC-001"),
            ],
            waivers=[waiver],
        )
    )
    standing = control_standing(run, catalog, "CC7.1")
    assert standing.state is ControlState.EXCEPTIONS
    (named,) = standing.exceptions
    assert "security/pip-audit waived (vulnerability-database-unreachable)" in named
    assert "owner security, approved by ciso, SEC-42, expires 2027-06-30" in named


def test_a_control_with_an_untested_mapped_requirement_is_partial(catalog: Catalog) -> None:
    mapped = [r.id for r in catalog.requirements.values() if "CC8.1" in r.controls]
    tested = [r for r in mapped if r not in {"REQ-REL-001", "REQ-PERF-001"}]
    checks = [check(f"acceptance/{r}", Verdict.PASS, r) for r in tested]
    run = run_of(
        summary("acceptance", checks),
        summary(
            "perf",
            [check("perf/sustained", Verdict.PASS, "REQ-PERF-001")],
            metrics={"shape": "sustained", "achieved_rps": 299.1},
        ),
    )
    standing = control_standing(run, catalog, "CC8.1")
    assert standing.state is ControlState.PARTIAL
    assert len(standing.gaps) == 1
    assert standing.gaps[0].startswith("REQ-REL-001 (no test in this run: no progressive-delivery")


def test_a_smoke_run_does_not_cover_a_load_requirement(catalog: Catalog) -> None:
    smoke = summary(
        "perf",
        [
            check("perf/smoke", Verdict.PASS, "REQ-PERF-001"),
            check(
                "perf/smoke::product", Verdict.PASS, "REQ-CAT-002", "REQ-PERF-001", "REQ-PERF-002"
            ),
        ],
        metrics={"shape": "smoke", "achieved_rps": 18.0},
    )
    run = run_of(smoke)
    first = requirement_standing(run, catalog, "REQ-PERF-001")
    assert first.standing is Standing.UNJUDGED
    assert (
        "a smoke run at 18 RPS cannot cover REQ-PERF-001: it needs a sustained run at ≥ 285 RPS"
        in first.reason
    )
    spike = requirement_standing(run, catalog, "REQ-PERF-002")
    assert spike.standing is Standing.UNJUDGED
    assert "needs a spike run at ≥ 380 RPS" in spike.reason
    # the journey's other requirement, a cache one, is evidence from any perf run
    assert requirement_standing(run, catalog, "REQ-CAT-002").standing is Standing.PASS
    a12 = control_standing(run, catalog, "A1.2")
    assert [link.check.id for link in a12.links] == ["perf/smoke::product"]
    assert a12.state is ControlState.PARTIAL


def test_a_sustained_run_short_of_its_rate_does_not_cover_it_either(catalog: Catalog) -> None:
    def perf(rps: float) -> Run:
        return run_of(
            summary(
                "perf",
                [check("perf/sustained", Verdict.PASS, "REQ-PERF-001")],
                metrics={"shape": "sustained", "achieved_rps": rps},
            )
        )

    assert requirement_standing(perf(212.0), catalog, "REQ-PERF-001").standing is Standing.UNJUDGED
    assert requirement_standing(perf(297.5), catalog, "REQ-PERF-001").standing is Standing.PASS


def test_only_the_controls_evidence_suites_count(catalog: Catalog) -> None:
    # CC7.5 lists chaos only: an acceptance scenario tagged with its requirement is not evidence
    run = run_of(
        summary("acceptance", [check("ops/db.feature::Restart", Verdict.FAIL, "REQ-RES-002")]),
        summary("chaos", [check("chaos/restart-database", Verdict.PASS, "REQ-RES-002")]),
    )
    assert [link.suite for link in control_links(run, catalog, "CC7.5")] == ["chaos"]
    assert control_standing(run, catalog, "CC7.5").state is ControlState.SATISFIED
    assert requirement_standing(run, catalog, "REQ-RES-002").standing is Standing.FAIL
