"""The breaking-change gate: the committed contract against a baseline, as Markdown and JSON.

    python -m contracts.gate                 # against contracts/baseline/openapi.json
    python -m contracts.gate --base main     # against contracts/openapi.json at a git ref
    python -m contracts.gate --bump          # accept the current contract as the new baseline

Exit 1 on a breaking change. Breaking deliberately means bumping the baseline in the same
change (`--bump`, reviewed like any other file): against a git ref, breaking changes count as
acknowledged when the baseline file differs from the ref's and equals the current contract.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.diff import Change, Severity, compare
from contracts.export import BASELINE, CONTRACT, CONTRACTS_DIR, ContractError, read, render

REPO_ROOT = CONTRACTS_DIR.parent
GATE_MD = "gate.md"
GATE_JSON = "gate.json"


@dataclass
class GateResult:
    """What the gate found and concluded."""

    baseline: str
    current: str
    changes: list[Change] = field(default_factory=list)
    acknowledged: bool = False

    @property
    def breaking(self) -> list[Change]:
        """The breaking changes."""
        return [c for c in self.changes if c.severity is Severity.BREAKING]

    @property
    def passed(self) -> bool:
        """No breaking change, or only ones the baseline bump acknowledges."""
        return not self.breaking or self.acknowledged

    def as_dict(self) -> dict[str, Any]:
        """gate.json contents."""
        return {
            "baseline": self.baseline,
            "current": self.current,
            "verdict": "pass" if self.passed else "fail",
            "acknowledged_by_baseline_bump": self.acknowledged,
            "counts": {
                "breaking": len(self.breaking),
                "compatible": len(self.changes) - len(self.breaking),
            },
            "changes": [c.as_dict() for c in self.changes],
        }

    def markdown(self) -> str:
        """gate.md contents."""
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            "# API breaking-change gate",
            "",
            f"- baseline: `{self.baseline}`",
            f"- current: `{self.current}`",
            f"- verdict: **{verdict}** ({len(self.breaking)} breaking,"
            f" {len(self.changes) - len(self.breaking)} compatible)",
        ]
        if self.breaking and self.acknowledged:
            lines.append("- breaking changes acknowledged: the baseline was bumped in this change")
        if not self.changes:
            lines += ["", "No changes."]
        for severity in (Severity.BREAKING, Severity.COMPATIBLE):
            chosen = [c for c in self.changes if c.severity is severity]
            if not chosen:
                continue
            lines += ["", f"## {severity.capitalize()} ({len(chosen)})", ""]
            lines += ["| operation | change | where | detail |", "|---|---|---|---|"]
            lines += [f"| {c.operation} | {c.kind} | {c.location} | {c.detail} |" for c in chosen]
        if not self.passed:
            lines += [
                "",
                "To break the contract deliberately, bump the baseline in the same change:",
                "`python -m contracts.gate --bump`.",
            ]
        return "\n".join(lines) + "\n"

    def write(self, out: Path) -> list[Path]:
        """Write gate.md and gate.json into `out`."""
        out.mkdir(parents=True, exist_ok=True)
        (out / GATE_MD).write_text(self.markdown(), encoding="utf-8")
        (out / GATE_JSON).write_text(
            json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        return [out / GATE_MD, out / GATE_JSON]


def at_ref(ref: str, path: Path, root: Path = REPO_ROOT) -> dict[str, Any] | None:
    """A JSON file as committed at a git ref (None when the ref has no such file)."""
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    done = subprocess.run(  # noqa: S603 - fixed git invocation on our own checkout
        ["git", "-C", str(root), "show", f"{ref}:{relative}"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if "does not exist" in done.stderr or "exists on disk, but not in" in done.stderr:
            return None
        raise ContractError(f"git show {ref}:{relative} failed: {done.stderr.strip()}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def run_gate(
    current: Path = CONTRACT, baseline: Path = BASELINE, base_ref: str | None = None
) -> GateResult:
    """Compare `current` with the baseline file, or with `current` as committed at `base_ref`."""
    new = read(current)
    if base_ref is None:
        return GateResult(str(baseline), str(current), compare(read(baseline), new))
    old = at_ref(base_ref, current)
    if old is None:  # the contract is new at this ref: nothing to break
        return GateResult(f"{base_ref}:(none)", str(current), compare(new, new))
    result = GateResult(f"{base_ref}:{current.name}", str(current), compare(old, new))
    bumped_from = at_ref(base_ref, baseline) if baseline.exists() else None
    result.acknowledged = (
        baseline.exists() and bumped_from != read(baseline) and read(baseline) == new
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the gate from the command line."""
    parser = argparse.ArgumentParser(prog="python -m contracts.gate", description=__doc__)
    parser.add_argument("--base", help="git ref whose contracts/openapi.json is the baseline")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="baseline file")
    parser.add_argument("--current", type=Path, default=CONTRACT, help="contract to judge")
    parser.add_argument("--out", type=Path, help="write gate.md and gate.json here")
    parser.add_argument(
        "--bump", action="store_true", help="make the current contract the baseline"
    )
    args = parser.parse_args(argv)
    if args.bump:
        args.baseline.parent.mkdir(parents=True, exist_ok=True)
        args.baseline.write_text(render(read(args.current)), encoding="utf-8")
        print(f"baseline {args.baseline} now equals {args.current}")
        return 0
    try:
        result = run_gate(args.current, args.baseline, args.base)
    except ContractError as exc:
        print(f"gate error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        result.write(args.out)
    print(result.markdown())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
