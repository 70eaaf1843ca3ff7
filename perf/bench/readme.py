"""The README's performance table, rendered from the benchmark's results file.

    python -m perf.bench.readme [--results PATH] [--readme PATH] [--check]

rewrites the table between the README's bench markers from the results file (perf/bench/
results.json unless given); `--check` changes nothing and exits 1 when the README differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from perf.bench.results import RESULTS, ROOT, read

README = ROOT / "README.md"
START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
HEAD = (
    "| traffic | measurement | backend | RPS | p95 ms | server CPU ms/request | of ceiling "
    "| target | met |"
)
RULE = "|---|---|---|---|---|---|---|---|---|"
# The figure a journey-mix row shows as its rate: the achieved one, never the asked one.
RATE_FIGURES = ("rps", "achieved_rps", "knee_achieved_rps")


class ReadmeError(Exception):
    """The README has no (or broken) bench markers."""


def _number(value: Any, decimals: int) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


def _p95(value: Any) -> str:
    return _number(value, 1 if value is not None and value < 100 else 0)


def _met(row: Mapping[str, Any]) -> str:
    if row["target"] is None:
        return ""
    return {True: "yes", False: "no"}.get(row["meets_target"], "not measured")


def _what(row: Mapping[str, Any]) -> str:
    figures = row["figures"]
    details = [f"gate {figures['verdict']}"] if "verdict" in figures else []
    if figures.get("knee_rps") is not None:
        details.append(f"knee at {figures['knee_rps']:,g} RPS asked")
    if row["note"]:
        details.append(row["note"])
    return str(row["measurement"]) + (f": {'; '.join(details)}" if details else "")


def row_line(row: Mapping[str, Any]) -> str:
    """One table line."""
    figures = row["figures"]
    rate = next((figures[k] for k in RATE_FIGURES if figures.get(k) is not None), None)
    share = figures.get("share_of_ceiling_pct")
    cells = [
        row["kind"],
        _what(row),
        row["backend"],
        _number(rate, 0),
        _p95(figures.get("p95_ms")),
        _number(figures.get("cpu_ms_per_request"), 2),
        "" if share is None else f"{share:.0f} %",
        row["target"]["text"] if row["target"] else "",
        _met(row),
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def caption(results: Mapping[str, Any]) -> str:
    """Which run, machine and commit the table comes from."""
    host, git = results["machine"], results["commit"]
    changed = list(git.get("changed") or [])
    named = ", ".join(f"`{path}`" for path in changed[:3]) + (", ..." if len(changed) > 3 else "")
    at = f"commit `{git['sha']}`" + (f" with uncommitted changes ({named})" if changed else "")
    return (
        f"Measured {results['date']} by `{results['command']}` at {at}, on {host['cpu_model']}, "
        f"{host['cores']} cores, {host['memory_gib']:g} GiB, {host['python']}, "
        f"{host['platform']}."
    )


def render(results: Mapping[str, Any]) -> str:
    """The generated block: caption and table, between the markers."""
    lines = [START, caption(results), "", HEAD, RULE]
    lines += [row_line(row) for row in results["rows"]]
    return "\n".join([*lines, END])


def splice(readme: str, block: str) -> str:
    """The README with the generated block in place of the old one."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ReadmeError(f"the README needs the markers {START!r} and {END!r}, in that order")
    return readme[:start] + block + readme[end + len(END) :]


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with --check, compare) the README's performance table."""
    parser = argparse.ArgumentParser(prog="python -m perf.bench.readme", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs")
    args = parser.parse_args(argv)
    current = args.readme.read_text(encoding="utf-8")
    wanted = splice(current, render(read(args.results)))
    if args.check:
        if wanted != current:
            print(f"{args.readme}: its table differs from {args.results}", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        args.readme.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
