"""The README's two set-up commands are the ones we run; the first one works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.reference_service.test_cli import _free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The commands of the README's first code block, without comments."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README has no bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_run_and_test() -> None:
    assert readme_commands() == ["python3 dev.py run", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython3 dev.py test\n" in ci


@pytest.mark.slow
def test_the_main_job_serves_seeded_data(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/main.db",
    }
    command = readme_commands()[0].split()
    proc = subprocess.Popen(
        [sys.executable if command[0] == "python3" else command[0], *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(proc, url)
        assert len(httpx.get(f"{url}/products", params={"limit": 100}).json()["items"]) == 100
    finally:
        proc.terminate()
        proc.wait(timeout=30)
