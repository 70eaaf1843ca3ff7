"""Render the Helm chart to plain manifests, the way `helm template` would.

    python -m infra.helm.render           # rewrite infra/helm/rendered/*.yaml
    python -m infra.helm.render --check   # exit 1 when the committed renders are stale

The rendered files are committed so reviewers see exactly what reaches the cluster,
and checkov scans them (no helm binary is needed on the build machines).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.helm.gotemplate import Renderer

HERE = Path(__file__).resolve().parent
CHART = HERE / "assay"
RENDERED = HERE / "rendered"
ROOT = HERE.parents[1]
# Each variant: the values files layered on the chart's values.yaml, in order.
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "locust": ["values-locust.yaml"],
    "aws": ["values-aws.example.yaml"],
}
RELEASE = {"Name": "assay", "Namespace": "assay", "Service": "Helm"}


class Files:
    """The chart's `.Files`: read-only access to files inside the chart."""

    def __init__(self, chart: Path) -> None:
        self._chart = chart

    def Get(self, name: str) -> str:  # Helm templates call .Files.Get
        """Return a chart file's text."""
        return (self._chart / name).read_text()


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge values the way Helm layers -f files (maps merge, everything else replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render(
    values_files: list[str], chart: Path = CHART, overrides: dict[str, Any] | None = None
) -> str:
    """Render every template of the chart with the given extra values files, then overrides."""
    values = yaml.safe_load((chart / "values.yaml").read_text())
    for name in values_files:
        values = merge(values, yaml.safe_load((chart / name).read_text()) or {})
    values = merge(values, overrides or {})
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    root = {
        "Values": values,
        "Release": RELEASE,
        "Chart": {
            "Name": meta["name"],
            "Version": meta["version"],
            "AppVersion": meta["appVersion"],
        },
        "Files": Files(chart),
    }
    renderer = Renderer(root)
    templates = sorted((chart / "templates").glob("*"))
    for helper in (t for t in templates if t.name.startswith("_")):
        renderer.load(helper.read_text())
    documents = []
    for template in (t for t in templates if not t.name.startswith("_")):
        text = renderer.render(renderer.load(template.read_text()))
        for doc in text.split("\n---\n"):
            if doc.strip() and doc.strip() != "---":
                body = doc.strip("\n").removeprefix("---\n")
                documents.append(
                    f"---\n# Source: {meta['name']}/templates/{template.name}\n{body}\n"
                )
    return "".join(documents)


def build_all() -> dict[Path, str]:
    """Every rendered variant and its expected content."""
    return {RENDERED / f"{name}.yaml": render(files) for name, files in VARIANTS.items()}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) the rendered manifests."""
    parser = argparse.ArgumentParser(prog="python -m infra.helm.render")
    parser.add_argument("--check", action="store_true", help="fail if committed renders are stale")
    args = parser.parse_args(argv)
    outputs = build_all()
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    RENDERED.mkdir(exist_ok=True)
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
