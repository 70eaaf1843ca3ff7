"""Static IaC checks: checkov over Terraform, rendered Helm, Dockerfiles and CI workflows,
plus Terraform parsing and variable documentation. No cloud, cluster or Docker needed.

    python -m infra.iac [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# (framework, directory relative to the repository root)
CHECKOV_TARGETS: tuple[tuple[str, str], ...] = (
    ("terraform", "infra/terraform"),
    ("kubernetes", "infra/helm/rendered"),
    ("dockerfile", "infra/docker"),
    ("github_actions", ".github/workflows"),
)
# Checkov would fetch guideline links from its vendor's API; there is no network for that.
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}


@dataclass
class CheckovResult:
    """One checkov run over one directory."""

    framework: str
    directory: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    parsing_errors: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when checkov ran, parsed everything and nothing failed."""
        return not self.error and self.failed == 0 and self.parsing_errors == 0


def find_tool(name: str) -> str | None:
    """A tool's path: next to this interpreter (tox/venv) first, then PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def run_checkov(framework: str, directory: Path, report: Path | None = None) -> CheckovResult:
    """Run checkov on one directory with one framework; inline skips are honoured."""
    result = CheckovResult(framework, str(directory))
    checkov = find_tool("checkov")
    if checkov is None:
        result.error = "checkov is not installed (tox -e iac installs it)"
        return result
    argv = [checkov, "-d", str(directory), "--framework", framework, "-o", "json"]
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*argv, "--quiet", "--skip-download", "--compact"],
        capture_output=True,
        text=True,
        env={**os.environ, **CHECKOV_ENV},
        check=False,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        result.error = f"checkov exit {proc.returncode}: {proc.stderr.strip()[-500:]}"
        return result
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(data, indent=2) + "\n")
    reports = data if isinstance(data, list) else [data]
    for item in reports:
        summary = item.get("summary", {})
        result.passed += summary.get("passed", 0)
        result.failed += summary.get("failed", 0)
        result.skipped += summary.get("skipped", 0)
        result.parsing_errors += summary.get("parsing_errors", 0)
        results = item.get("results", {})
        result.failures += [_brief(c) for c in results.get("failed_checks", [])]
        result.skips += [_brief(c) for c in results.get("skipped_checks", [])]
    return result


def _brief(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "check_id": check.get("check_id"),
        "name": check.get("check_name"),
        "resource": check.get("resource"),
        "file": check.get("repo_file_path") or check.get("file_path"),
        "line": (check.get("file_line_range") or [None])[0],
        "reason": (check.get("check_result") or {}).get("suppress_comment", ""),
    }


def run_all_checkov(root: Path = ROOT, out: Path | None = None) -> list[CheckovResult]:
    """Checkov over every IaC target of the repository."""
    return [
        run_checkov(fw, root / rel, out / f"checkov-{fw}.json" if out else None)
        for fw, rel in CHECKOV_TARGETS
    ]


def _text(value: Any) -> str:
    """python-hcl2 versions differ: values may come wrapped in lists or quotes."""
    while isinstance(value, list) and value:
        value = value[0]
    return str(value or "").strip().strip('"').strip()


def terraform_problems(root: Path = ROOT / "infra" / "terraform") -> list[str]:
    """Files that do not parse, and variables without a description."""
    import hcl2  # type: ignore[import-not-found,unused-ignore]  # only in the iac/security envs

    problems = []
    for path in sorted(root.rglob("*.tf")):
        try:
            doc = hcl2.loads(path.read_text())
        except Exception as exc:  # noqa: BLE001 - any parser error is a finding
            problems.append(f"{path.relative_to(root)}: does not parse: {exc}")
            continue
        for block in doc.get("variable", []):
            for name, body in block.items():
                if not _text(body.get("description")):
                    problems.append(f"{path.relative_to(root)}: variable {name} has no description")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run every static IaC check; exit 1 on any failure."""
    parser = argparse.ArgumentParser(prog="python -m infra.iac")
    parser.add_argument("--out", type=Path, help="directory for checkov JSON reports")
    args = parser.parse_args(argv)
    failed = False
    for res in run_all_checkov(out=args.out):
        status = "ok" if res.ok else "FAIL"
        print(
            f"checkov {res.framework:<10} {res.directory}: {status} passed={res.passed} "
            f"failed={res.failed} skipped={res.skipped} parse_errors={res.parsing_errors}"
        )
        for item in res.failures:
            print(f"  FAILED {item['check_id']} {item['resource']} ({item['file']})")
        if res.error:
            print(f"  ERROR {res.error}")
        failed |= not res.ok
    problems = terraform_problems()
    for problem in problems:
        print(f"terraform: {problem}")
    print(f"terraform parse/docs: {'ok' if not problems else 'FAIL'}")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
