"""Acceptance-suite plumbing: the Target, HTTP client, admin account, isolation and reporting.

The target comes from `ASSAY_TARGET_URL` (set by `assay run acceptance`); without it each
pytest process starts its own reference service, so `pytest features/` also works alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd.parser import Feature, Scenario
from pytest_bdd.reporting import (
    ReportContext,
    scenario_reports_registry,
    test_report_context_registry,
)

from assay.target import Target, managed_target, target_from_env
from features.support.api import Account, sign_in
from features.support.exclusive import ScenarioLock

FEATURES_DIR = Path(__file__).resolve().parent
HTTP_TIMEOUT_S = 15.0


# --- tags -> marks ----------------------------------------------------------------------


def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> object | None:
    """`@REQ-...` tags become `pytest.mark.req(...)`; other tags must be registered markers."""
    if tag.startswith("REQ-"):
        marked: object = pytest.mark.req(tag)(function)
        return marked
    return None  # pytest-bdd's default: pytest.mark.<tag>, checked by --strict-markers


def requirement_tags(feature: Feature, scenario: Scenario) -> list[str]:
    """The requirement ids a scenario carries, from its own, its rule's and its feature's tags."""
    rule_tags = scenario.rule.tags if scenario.rule else set()
    return sorted(t for t in scenario.tags | feature.tags | rule_tags if t.startswith("REQ-"))


def feature_path(filename: str) -> str:
    """A feature file's path relative to features/ (or its name, for features elsewhere)."""
    path = Path(filename).resolve()
    return (
        path.relative_to(FEATURES_DIR).as_posix()
        if path.is_relative_to(FEATURES_DIR)
        else path.name
    )


def pytest_bdd_before_scenario(
    request: pytest.FixtureRequest, feature: Feature, scenario: Scenario
) -> None:
    """Record feature, scenario and requirement ids on the test, so JUnit XML carries them."""
    rel = feature_path(feature.filename)
    node = request.node
    node.user_properties.append(("feature", rel))
    node.user_properties.append(("scenario", scenario.name))
    node.user_properties.append(("line", str(scenario.line_number)))
    node.user_properties.append(("requirements", " ".join(requirement_tags(feature, scenario))))


# --- the target ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    """The service under test (from ASSAY_TARGET_URL, else a reference service of our own)."""
    remote = target_from_env(os.environ)
    if remote is not None:
        yield remote
        return
    with managed_target() as managed:
        yield managed


@pytest.fixture(scope="session")
def http(target: Target) -> Iterator[httpx.Client]:
    """One HTTP client per worker; scenarios share connections, never state."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    with httpx.Client(base_url=target.base_url, timeout=HTTP_TIMEOUT_S, limits=limits) as client:
        yield client


@pytest.fixture(scope="session")
def admin(target: Target, http: httpx.Client) -> Account:
    """The target's admin account, signed in once per worker."""
    if target.admin is None:
        pytest.skip(
            "needs the target's admin account: set ASSAY_ADMIN_EMAIL and ASSAY_ADMIN_PASSWORD"
        )
    return sign_in(http, target.admin.email, target.admin.password, role="admin")


# --- isolation ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def scenario_lock(tmp_path_factory: pytest.TempPathFactory) -> ScenarioLock:
    """The lock every xdist worker of this session shares (their temp dirs have one parent)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return ScenarioLock(shared / "locks")


@pytest.fixture(autouse=True)
def _isolation(request: pytest.FixtureRequest, scenario_lock: ScenarioLock) -> Iterator[None]:
    """`@exclusive` scenarios (global flags) run alone; all others may run side by side."""
    if request.node.get_closest_marker("exclusive") is not None:
        with scenario_lock.exclusive():
            yield
    else:
        with scenario_lock.shared():
            yield


# --- readable Gherkin-level failures ------------------------------------------------------


def _reason(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    if excinfo.errisinstance(AssertionError):
        message = str(excinfo.value).split("\nassert ", 1)[0].strip()
        return message or "assertion failed"
    return f"{excinfo.typename}: {excinfo.value}"


def gherkin_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """The failed scenario as Gherkin: steps passed (✔), the one that failed (✘) and why."""
    report = scenario_reports_registry.get(item)
    if report is None:
        return None
    scenario = report.scenario
    rel = feature_path(scenario.feature.filename)
    reqs = " ".join(requirement_tags(scenario.feature, scenario))
    lines = [
        f"Scenario: {scenario.name}",
        f"  ({rel}:{scenario.line_number}{', ' + reqs if reqs else ''})",
    ]
    failed_seen = False
    for step_report in report.step_reports:
        step = step_report.step
        text = f"{step.keyword} {step.name}"
        if not step_report.failed:
            lines.append(f"  ✔ {text}")
        elif not failed_seen:
            failed_seen = True
            lines.append(f"  ✘ {text}")
            lines.extend(f"      {line}" for line in _reason(excinfo).splitlines())
        else:
            lines.append(f"  - {text}   (not run)")
    if not failed_seen:
        lines.append(f"  ✘ {_reason(excinfo)}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Replace the traceback of a failed expectation with the Gherkin-level story."""
    report = yield
    if report.when == "call" and report.failed and call.excinfo is not None:
        story = gherkin_failure(item, call.excinfo)
        if story is not None:
            if not call.excinfo.errisinstance(AssertionError):
                story += f"\n\n{report.longreprtext}"  # a broken step: keep the traceback
            report.longrepr = story
    return report


# pytest-bdd keeps the scenario of a report in a registry that pytest-xdist does not ship
# from workers to the controller, so `--cucumberjson` would be empty under `-n`. Carry it.


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.TestReport
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    data = yield
    context = test_report_context_registry.get(report)
    if data is not None and context is not None:
        data["assay_bdd"] = {"scenario": context.scenario, "name": context.name}
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(
    config: pytest.Config, data: dict[str, Any]
) -> Generator[None, object, object]:
    carried = data.pop("assay_bdd", None)
    report = yield
    if carried is not None and isinstance(report, pytest.TestReport):
        test_report_context_registry[report] = ReportContext(
            scenario=carried["scenario"], name=carried["name"]
        )
    return report
