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


def test_ci_prints_and_records_its_phase_times_without_touching_its_exit_code() -> None:
    # .ci/run names the main job's run, times apt, the main job and the tests, records them
    # in that run (`assay timings record`, tests/assay/test_timings.py) and prints them last;
    # a failed recording only says so, and the exit code stays the tests', then the main job's.
    ci = (ROOT / ".ci" / "run").read_text()
    lines = ci.splitlines()
    assert 'ASSAY_RUN_ID="$run_id" python3 dev.py run || main_job=$?' in lines
    record = next(i for i, line in enumerate(lines) if "dev.py assay timings record" in line)
    call = " ".join(lines[record : record + 4])
    assert '"$run_id" --tests-exit "$tests"' in call
    for phase in ("apt", "main_job", "tests", "total"):
        assert f"--phase {phase}=" in call, phase
    assert call.rstrip().endswith('|| echo "CI timings could not be recorded in run $run_id" >&2')
    assert lines.index("python3 dev.py test || tests=$?") < record
    printed = next(i for i, line in enumerate(lines) if line.startswith('echo "CI wall time'))
    assert record < printed < len(lines) - 4
    assert lines[-1] == "exit $(( tests != 0 ? tests : main_job ))"


def test_the_suite_tox_envs_are_the_assay_run_commands_ci_runs() -> None:
    # CI runs `assay run` with every suite (the main job) and `tox -e iac`; the suites' tox
    # environments must stay the same `assay run SUITE` the main job exercises, and the
    # security suite is `tox -e security` itself.
    import configparser

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    readme = (ROOT / "README.md").read_text()
    for suite in ("acceptance", "contract", "perf", "chaos"):
        assert f"tox -e {suite}" in readme
        commands = tox[f"testenv:{suite}"]["commands"]
        assert f"assay run {suite}" in commands, suite
    assert "python -m infra.security" in tox["testenv:security"]["commands"]
    suite = (ROOT / "infra" / "security" / "suite.py").read_text()
    assert '"tox", "run", "-e", "security"]' in suite
    from dev import BEFORE

    assert BEFORE["test"] == [["tox", "run", "-e", "iac"]]
    assert "tests/security" in tox["testenv:iac"]["commands"]
