"""The README's performance table is the one the committed results file renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perf.bench.readme import END, README, START, main, render, splice
from perf.bench.results import RESULTS, read
from perf.bench.targets import AUTH_READ, CACHED_READ, SUSTAINED


def test_the_readme_table_is_rendered_from_the_committed_results() -> None:
    readme = README.read_text(encoding="utf-8")
    wanted = render(read(RESULTS))
    shown = readme[readme.index(START) : readme.index(END) + len(END)]
    assert shown == wanted, (
        "README.md's performance table differs from perf/bench/results.json: "
        "run `python3 dev.py python -m perf.bench.readme`"
    )
    assert main(["--check"]) == 0


def test_the_committed_results_say_which_traffic_each_row_is() -> None:
    results = read(RESULTS)
    kinds = {row["key"]: row["kind"] for row in results["rows"]}
    assert kinds[CACHED_READ] == "anonymous reads"
    assert kinds[AUTH_READ] == "authenticated reads"
    assert kinds[SUSTAINED].startswith("journey mix")
    block = render(results)
    assert "| traffic | measurement | backend |" in block
    assert "| target | met |" in block
    assert results["machine"]["cpu_model"] in block  # the caption names the machine
    assert f"`{results['commit']['sha']}`" in block


def test_the_readme_command_rewrites_a_stale_table(tmp_path: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    stale = splice(readme, f"{START}\n| made up | by hand |\n{END}")
    copy = tmp_path / "README.md"
    copy.write_text(stale, encoding="utf-8")
    assert main(["--check", "--readme", str(copy)]) == 1
    done = subprocess.run(
        [sys.executable, "-m", "perf.bench.readme", "--readme", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert copy.read_text(encoding="utf-8") == splice(readme, render(read(RESULTS)))
    assert "by hand" not in copy.read_text(encoding="utf-8")
