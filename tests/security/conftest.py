"""Shared helpers for the security tests: external tools fail loudly in CI, skip locally."""

from __future__ import annotations

from tests.tooling import tool_fixtures

require_tool, require_module = tool_fixtures("iac")
