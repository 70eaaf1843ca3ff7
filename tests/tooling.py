"""External tools for the scanner tests: missing in CI fails loudly, missing locally skips."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from infra.iac import find_tool


def tool_fixtures(tox_env: str) -> tuple[Any, Any]:
    """`require_tool` and `require_module` fixtures naming the tox env that installs the tools."""

    def missing(what: str) -> None:
        # In CI a missing scanner is a broken pipeline, never a silent pass.
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is required in CI (tox -e {tox_env} installs it)")
        pytest.skip(f"{what} is not installed here; run tox -e {tox_env}")

    def tool(name: str) -> str:
        path = find_tool(name)
        if path is None:
            missing(name)
        assert path is not None
        return path

    def module(name: str) -> ModuleType:
        try:
            return importlib.import_module(name)
        except ImportError:
            missing(f"python module {name}")
            raise

    @pytest.fixture
    def require_tool() -> Callable[[str], str]:
        """A function giving a tool's path, or failing (CI) / skipping (locally)."""
        return tool

    @pytest.fixture
    def require_module() -> Callable[[str], ModuleType]:
        """A function importing a module, or failing (CI) / skipping (locally)."""
        return module

    return require_tool, require_module
