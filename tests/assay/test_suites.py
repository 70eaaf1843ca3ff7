"""The suite registry: entry points plus in-process registration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assay import suites
from assay.run import Run
from assay.summary import Summary, Verdict, utcnow
from assay.target import Target


def fake(run: Run, target: Target) -> Summary:
    """A suite that always passes."""
    now = utcnow()
    return Summary(
        suite="fake", verdict=Verdict.PASS, started_at=now, finished_at=now, duration_s=0
    )


@pytest.fixture
def registered() -> Iterator[suites.Suite]:
    suite = suites.register(suites.Suite(name="fake", run=fake, description="fake", order=999))
    yield suite
    suites.unregister("fake")


def test_the_acceptance_suite_is_installed_by_entry_point() -> None:
    acceptance = suites.get("acceptance")
    assert acceptance.run.__module__ == "features.adapter"
    assert acceptance.description


def test_registered_suites_join_the_installed_ones_in_order(registered: suites.Suite) -> None:
    names = list(suites.available())
    assert names[0] == "acceptance"
    assert names[-1] == "fake"
    assert suites.get("fake") is registered


def test_an_unknown_suite_names_the_ones_there_are() -> None:
    with pytest.raises(suites.UnknownSuiteError, match="acceptance"):
        suites.get("nope")
