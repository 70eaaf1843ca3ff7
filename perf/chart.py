"""Latency and throughput over time (PNG), from Locust's full-history CSV."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI machines

import matplotlib.pyplot as plt
import pandas as pd


def render(history_csv: Path, png: Path, title: str) -> Path | None:
    """Requests/s, failures/s, p50 and p95 of all requests per second; None without data."""
    frame = pd.read_csv(history_csv)
    total = frame[frame["Name"] == "Aggregated"].copy()
    if total.empty:
        return None
    for column in ("50%", "95%"):
        total[column] = pd.to_numeric(total[column], errors="coerce")
    seconds = total["Timestamp"] - total["Timestamp"].iloc[0]
    figure, rps_axis = plt.subplots(figsize=(10, 4.5), dpi=100)
    rps_axis.plot(seconds, total["Requests/s"], color="tab:blue", label="requests/s")
    rps_axis.plot(seconds, total["Failures/s"], color="tab:red", label="failures/s")
    rps_axis.set_xlabel("seconds into the run")
    rps_axis.set_ylabel("requests per second")
    latency_axis = rps_axis.twinx()
    latency_axis.plot(seconds, total["50%"], color="tab:green", linestyle="--", label="p50 ms")
    latency_axis.plot(seconds, total["95%"], color="tab:orange", label="p95 ms")
    latency_axis.set_ylabel("latency (ms)")
    lines = rps_axis.get_legend_handles_labels()
    more = latency_axis.get_legend_handles_labels()
    rps_axis.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize="small")
    rps_axis.set_title(title)
    figure.tight_layout()
    figure.savefig(png)
    plt.close(figure)
    return png
