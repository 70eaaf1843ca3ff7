"""Helpers shared by the probe modules."""

from __future__ import annotations

from typing import Any

from chaos import traffic
from chaos.context import Context


def verdict(held: bool, reason: str, **details: Any) -> dict[str, Any]:
    """A probe's answer: whether it held, why not, and what it measured."""
    return {"held": held, "reason": "" if held else reason, **details}


def burst(context: Context, duration_s: float, rate_rps: float, **kw: Any) -> list[traffic.Sample]:
    """A bounded burst against the context's target, acknowledged orders recorded."""
    return traffic.run_burst(
        context.base_url,
        context.state_dir,
        context.acknowledged_file,
        duration_s=duration_s,
        rate_rps=rate_rps,
        **kw,
    )
