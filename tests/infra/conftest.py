"""Shared helpers for the infra tests: external tools fail loudly in CI, skip locally."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType

import pytest

from infra.iac import find_tool


def _missing(what: str) -> None:
    # In CI a missing scanner is a broken pipeline, never a silent pass.
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI (tox -e iac / tox -e security install it)")
    pytest.skip(f"{what} is not installed here; run tox -e iac")


def _require_tool(name: str) -> str:
    """Path of an executable, or fail (CI) / skip (locally)."""
    path = find_tool(name)
    if path is None:
        _missing(name)
    assert path is not None
    return path


def _require_module(name: str) -> ModuleType:
    """An importable module, or fail (CI) / skip (locally)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(f"python module {name}")
        raise


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Returns a function giving a tool's path, or failing (CI) / skipping (locally)."""
    return _require_tool


@pytest.fixture
def require_module() -> Callable[[str], ModuleType]:
    """Returns a function importing a module, or failing (CI) / skipping (locally)."""
    return _require_module
