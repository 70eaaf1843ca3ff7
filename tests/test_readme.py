"""The README's two set-up commands are the ones we run; the first one works."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The commands of the README's first code block, without comments."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README has no bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_run_and_test() -> None:
    assert readme_commands() == ["python3 dev.py run", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython3 dev.py test || tests=$?\n" in ci


def test_the_main_job_is_assay_run_and_ci_checks_its_result() -> None:
    # The main job takes minutes (every suite), so CI runs it rather than a test: here we
    # pin that dev.py's `run` is `assay run` and that .ci/run runs it and keeps its verdict.
    from dev import COMMANDS

    assert COMMANDS["run"] == ["assay", "run"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py run || main_job=$?" in ci
    assert "main_job" in ci.splitlines()[-1]
