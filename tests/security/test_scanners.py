"""The real scanners catch planted problems in temporary copies of the tree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.security import scanners

pytestmark = pytest.mark.req("REQ-SUP-001")

ROOT = Path(__file__).resolve().parents[2]


def _copy(tmp_path: Path, *relative: str) -> Path:
    tree = tmp_path / "tree"
    for rel in relative:
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return tree


def _fake_aws_key() -> tuple[str, str]:
    # Assembled at run time so the repository itself holds no key-shaped literal.
    key_id = "AKIA" + "QX7PL2RTV9MZ4KWB"
    secret = "wJalrXUt" + "nFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY9Zq"
    return key_id, secret


def test_a_planted_hard_coded_secret_is_caught(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    require_tool("detect-secrets")
    tree = _copy(tmp_path, "infra/docker/compose.yaml", "infra/observability/generate.py")
    out = tmp_path / "out"
    out.mkdir()
    clean = scanners.secrets(tree, out)
    assert not clean.error
    assert clean.findings == []

    key_id, secret = _fake_aws_key()
    settings = tree / "infra/observability/generate.py"
    settings.write_text(
        settings.read_text() + f'\nAWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET = "{secret}"\n'
    )
    planted = scanners.secrets(tree, out)
    hits = {(f.path, f.rule) for f in planted.findings}
    assert ("infra/observability/generate.py", "AWS Access Key") in hits
    assert all(f.severity == "high" for f in planted.findings)


def test_a_planted_shell_injection_is_a_high_bandit_finding(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    require_tool("bandit")
    tree = _copy(tmp_path, "infra/iac.py")
    (tree / "infra/run_anything.py").write_text(
        "import subprocess\n\n\ndef run(command: str) -> None:\n"
        "    subprocess.call(command, shell=True)\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    result = scanners.bandit(tree, out)
    high = [(f.rule, f.path) for f in result.findings if f.severity == "high"]
    assert ("B602", "infra/run_anything.py") in high
    assert (out / "bandit.json").is_file()


def test_the_sbom_lists_every_locked_component(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    require_tool("cyclonedx-py")
    lock = scanners.write_lock(tmp_path)
    result = scanners.sbom(ROOT, tmp_path, lock)
    assert not result.error
    assert result.metrics["components"] == len(scanners.runtime_closure())


@pytest.mark.parametrize("scanner", sorted(scanners.TOOLS))
def test_every_scanner_names_its_version(scanner: str, require_tool: Callable[[str], str]) -> None:
    require_tool(scanners.TOOLS[scanner][1])
    found = scanners.tool_version(scanner)
    assert found is not None
    assert scanners.VERSION.fullmatch(found)
