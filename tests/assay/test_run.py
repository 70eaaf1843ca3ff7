"""The Run: directory layout, run.json contents, resuming and atomic suite verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assay.run import RUN_ID_PATTERN, Run, RunError, new_run_id
from assay.summary import Counts, Summary, Verdict
from assay.target import Credentials, JwtSettings, Target, TargetKind


def summary(suite: str, verdict: Verdict = Verdict.PASS) -> Summary:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    return Summary(
        suite=suite,
        verdict=verdict,
        started_at=now,
        finished_at=now,
        duration_s=1.5,
        counts=Counts(passed=3),
    )


def test_run_ids_sort_by_time_and_are_unique() -> None:
    first = new_run_id(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert first.startswith("20261126T080000Z-")
    assert RUN_ID_PATTERN.match(first)
    assert first != new_run_id(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))


def test_a_new_run_records_what_design_lists(tmp_path: Path) -> None:
    run = Run.create(tmp_path)
    data = json.loads((tmp_path / run.run_id / "run.json").read_text())
    assert data["run_id"] == run.run_id
    assert data["started_at"]
    assert data["finished_at"] is None
    assert set(data["git"]) == {"commit", "branch", "dirty"}
    assert data["environment"]["python"].startswith("3.")
    assert "assay" in data["environment"]["packages"]
    assert "httpx" in data["environment"]["packages"]
    assert data["suites"] == {}


def test_recording_a_suite_writes_its_summary_and_verdict(tmp_path: Path) -> None:
    run = Run.create(tmp_path)
    path = run.record_suite(summary("acceptance", Verdict.FAIL))
    assert path == run.directory / "acceptance" / "summary.json"
    assert Summary.read(path).verdict is Verdict.FAIL
    entry = run.read()["suites"]["acceptance"]
    assert entry["verdict"] == "fail"
    assert entry["summary"] == "acceptance/summary.json"
    assert entry["counts"]["passed"] == 3
    assert run.read()["finished_at"] is not None
    assert not list(run.directory.glob(".run.json.*")), "no temp file left behind"


def test_later_suites_resume_a_run_by_id(tmp_path: Path) -> None:
    first = Run.create(tmp_path)
    first.record_suite(summary("acceptance"))
    again = Run.open(first.run_id, tmp_path)
    again.record_suite(summary("perf", Verdict.WARNING))
    assert again.directory == first.directory
    assert again.verdicts() == {"acceptance": Verdict.PASS, "perf": Verdict.WARNING}


def test_run_id_from_the_environment_resumes_too(tmp_path: Path) -> None:
    first = Run.create(tmp_path)
    resumed = Run.open(None, tmp_path, environ={"ASSAY_RUN_ID": first.run_id})
    assert resumed.run_id == first.run_id


def test_an_unknown_run_id_starts_that_run(tmp_path: Path) -> None:
    run = Run.open("20261126T080000Z-abcdef", tmp_path)
    assert (tmp_path / "20261126T080000Z-abcdef" / "run.json").is_file()
    assert run.verdicts() == {}


@pytest.mark.parametrize("bad", ["../escape", "a/b", ".hidden", "-x", "x" * 101, "a b"])
def test_malformed_run_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(RunError, match="not like"):
        Run.create(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ident", ["gh-123-1", "perf-987654-2", "release-v1.2.0-1"])
def test_the_run_ids_the_workflows_choose_are_accepted(tmp_path: Path, ident: str) -> None:
    assert Run.open(ident, tmp_path).directory == tmp_path / ident


def test_resuming_a_missing_run_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no run"):
        Run.resume("20261126T080000Z-000000", tmp_path)


def test_the_target_is_recorded_without_secrets(tmp_path: Path) -> None:
    run = Run.create(tmp_path)
    target = Target(
        base_url="http://127.0.0.1:9",
        kind=TargetKind.MANAGED,
        version="1.2.3",
        admin=Credentials("admin@example.com", "s3cret-admin"),
        jwt=JwtSettings(secret="s3cret-jwt"),
        ledgers={"primary": "http://127.0.0.1:10"},
    )
    run.record_target(target)
    text = run.run_json.read_text()
    assert run.read()["target"] == {
        "url": "http://127.0.0.1:9",
        "kind": "managed",
        "version": "1.2.3",
        "admin_email": "admin@example.com",
        "jwt_secret_known": True,
        "ledgers": {"primary": "http://127.0.0.1:10"},
    }
    assert "s3cret" not in text


def test_a_new_run_snapshots_the_catalog_it_maps_results_with(tmp_path: Path) -> None:
    from assay.catalog.model import CATALOG_DIR
    from assay.record import load_run

    run = Run.create(tmp_path)
    names = sorted(p.name for p in (run.directory / "catalog").glob("*.yaml"))
    assert names == sorted(p.name for p in CATALOG_DIR.glob("*.yaml"))
    assert load_run(run.directory).catalog_dir() == run.directory / "catalog"


def test_provenance_names_the_ci_run_and_actor_else_the_local_user() -> None:
    from assay.run import provenance

    github = provenance(
        {
            "CI": "true",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_REPOSITORY": "acme/assay",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_WORKFLOW": "nightly",
        }
    )
    assert github["ci"] == "github-actions"
    assert github["ci_run_id"] == "4242/2"
    assert github["ci_run_url"] == "https://github.com/acme/assay/actions/runs/4242"
    assert github["actor"] == "octocat"
    local = provenance({})
    assert local["ci"] is None
    assert local["ci_run_id"] is None
    assert local["actor"]
    assert local["host"]
