"""External tools report tests need (chromium, soffice)."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(*names: str) -> str:
    """The first of `names` on PATH; skip without it locally, fail without it in CI (CI=true)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"needs {' or '.join(names)} on PATH"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI installs it)")
    pytest.skip(message)
