"""Builds the run's schema once, when pytest starts, from the environment the adapter set.

`schemathesis.pytest.from_fixture` would defer this to a fixture, but it does not work with
pytest 9.2 (it reads a node attribute pytest removed), so the schema is made in
`pytest_configure` and the test module picks it up from `contracts.conftest.SCHEMA`.
"""

from __future__ import annotations

import pytest
from schemathesis.schemas import BaseSchema

from contracts.live import RunConfig, authenticate, load_schema, reference_app

SCHEMA: BaseSchema | None = None
CONFIG: RunConfig | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Load and authenticate the target's schema for this run."""
    global SCHEMA, CONFIG
    CONFIG = RunConfig.from_env()
    CONFIG.out.mkdir(parents=True, exist_ok=True)
    app = reference_app(CONFIG) if CONFIG.base_url is None else None
    SCHEMA = load_schema(CONFIG, app)
    authenticate(SCHEMA, CONFIG)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The seed and budget, so a failing run can be reproduced."""
    if CONFIG is None:
        return []
    where = CONFIG.base_url or "in-process ASGI app"
    return [
        f"contract: {where}, seed {CONFIG.seed}, max examples {CONFIG.max_examples}"
        f" per operation, {CONFIG.stateful_examples} stateful scenarios"
    ]
