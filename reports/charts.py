"""Static charts for the HTML page: matplotlib SVG as data URIs, byte-stable for the same runs."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

INK = "#1b1f24"
ACCENT = "#0b5cad"
BAD = "#b3261e"
STYLE: dict[Any, Any] = {  # rc keys: matplotlib's stubs want them as literals
    "svg.hashsalt": "assay",  # fixed ids, so the same runs give the same SVG
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def trend(
    labels: Sequence[str], values: Sequence[float], objective: float, unit: str, title: str
) -> str:
    """A line of observed values per run with the objective as a dashed line."""
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(5.2, 2.4))
        axes.plot(labels, values, marker="o", color=ACCENT, label="observed")
        axes.axhline(objective, color=BAD, linestyle="--", label=f"objective {objective:g} {unit}")
        axes.set_title(title, color=INK)
        axes.set_ylabel(unit)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        return _data_uri(figure)


def stacked(labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str) -> str:
    """Horizontal stacked bars (e.g. passed / failed / skipped per suite)."""
    colours = {"passed": ACCENT, "failed": BAD, "skipped": "#6b7280", "errors": "#7a4b00"}
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=(5.2, 0.5 + 0.35 * len(labels)))
        left = [0.0] * len(labels)
        for name, values in series.items():
            axes.barh(labels, values, left=left, color=colours.get(name, INK), label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_title(title, color=INK)
        axes.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False, ncol=len(series)
        )
        axes.spines[["top", "right"]].set_visible(False)
        return _data_uri(figure)
