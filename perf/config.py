"""The perf suite's configuration (`profiles.yaml`): weights, shapes, pacing and test data.

SLO thresholds are deliberately absent: the gate reads them from the catalog.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PERF_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = PERF_DIR / "profiles.yaml"
CONFIG_ENV = "ASSAY_PERF_CONFIG"
SHAPE_ENV = "ASSAY_PERF_SHAPE"
WORKERS_ENV = "ASSAY_PERF_WORKERS"  # Locust worker processes sharing the users (0: one process)
OUT_ENV = "ASSAY_PERF_OUT"  # folder the gate writes summary.json into (default: working dir)
# A token the target accepts as the load generator's exemption from its per-client rate
# ceiling (one address sends the whole test), sent in EXEMPT_HEADER_ENV's header: the
# reference service's RATE_LIMIT_EXEMPT_TOKEN and X-Load-Test-Token.
EXEMPTION_ENV = "ASSAY_PERF_EXEMPT_TOKEN"
EXEMPT_HEADER_ENV = "ASSAY_PERF_EXEMPT_HEADER"
DEFAULT_EXEMPT_HEADER = "X-Load-Test-Token"
SUMMARY = "summary.json"
DEFAULT_SHAPE = "smoke"
MAX_ACCOUNTS = 10_000  # customer accounts a run registers at most


class PerfConfigError(Exception):
    """The perf configuration cannot be read or names something unknown."""


class Stage(BaseModel):
    """A stretch of constant target throughput."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rps: float = Field(gt=0)
    duration_s: float = Field(gt=0)


class Step(BaseModel):
    """A rising staircase: stop at the first step that misses the SLO (the knee is below it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_rps: float = Field(gt=0)
    increment_rps: float = Field(gt=0)
    step_s: float = Field(gt=0)
    max_rps: float = Field(gt=0)

    def stages(self) -> list[Stage]:
        """The staircase as stages, bounded by `max_rps`."""
        count = int((self.max_rps - self.start_rps) // self.increment_rps) + 1
        return [
            Stage(rps=self.start_rps + i * self.increment_rps, duration_s=self.step_s)
            for i in range(max(1, count))
        ]


class ShapeConfig(BaseModel):
    """Either fixed stages or a step search."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[Stage] = Field(default_factory=list)
    step: Step | None = None
    # SLOs this shape's traffic cannot judge, each with why: reported as skipped, with the
    # observed figure still shown (thresholds stay the catalog's; this only says which apply).
    unjudged: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if bool(self.stages) == (self.step is not None):
            raise ValueError("a shape has either `stages` or `step`")
        for slo_id, why in self.unjudged.items():
            if not slo_id.startswith("SLO-") or not why.strip():
                raise ValueError(f"unjudged takes SLO ids with a reason each, not {slo_id!r}")
        return self

    def plan(self) -> list[Stage]:
        """The stages this shape runs through."""
        return self.step.stages() if self.step is not None else list(self.stages)

    @property
    def duration_s(self) -> float:
        """How long the shape runs at most."""
        return sum(stage.duration_s for stage in self.plan())

    @property
    def peak_rps(self) -> float:
        """The highest target throughput of the shape."""
        return max(stage.rps for stage in self.plan())


class DataConfig(BaseModel):
    """How much test data to create through the API before the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(default=40, ge=1, le=MAX_ACCOUNTS)
    products: int = Field(default=20, ge=1, le=1_000)
    stock: int = Field(default=1_000_000, ge=1, le=1_000_000_000)
    # The target's per-account order limit (the reference service's RATE_LIMIT_ORDERS_PER_USER
    # default): the run registers more accounts than `users` when its shape's peak would
    # otherwise bring one near it (perf.plan.accounts_for).
    orders_per_account_per_minute: float = Field(default=30, gt=0)


class PerfConfig(BaseModel):
    """Everything a perf run is configured by, except SLO thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_rate: float = Field(gt=0)
    journeys: dict[str, float]
    retry_share: float = Field(default=0.05, ge=0, le=1)
    decline_share: float = Field(default=0.0, ge=0, le=0.5)  # checkouts paid with a declined card
    data: DataConfig = Field(default_factory=DataConfig)
    shapes: dict[str, ShapeConfig]
    ramp_s: float = Field(default=5.0, gt=0)

    def shape(self, name: str) -> ShapeConfig:
        """The shape called `name`."""
        if name not in self.shapes:
            known = ", ".join(sorted(self.shapes))
            raise PerfConfigError(f"no load shape {name!r}; configured: {known}")
        return self.shapes[name]

    def weights(self, available: set[str]) -> dict[str, float]:
        """Weights of the journeys that can run here (positive weight and available)."""
        unknown = set(self.journeys) - available
        if unknown:
            raise PerfConfigError(f"unknown journeys in the configuration: {sorted(unknown)}")
        return {name: w for name, w in self.journeys.items() if w > 0}


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> PerfConfig:
    """The configuration from `path`, `ASSAY_PERF_CONFIG`, or the packaged profiles.yaml."""
    env = os.environ if environ is None else environ
    source = path or Path(env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        return PerfConfig.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise PerfConfigError(f"{source}: {exc}") from exc


def exemption_headers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The header every request of the run carries to be exempt from the target's
    per-client ceiling, when EXEMPTION_ENV is set; none otherwise."""
    env = os.environ if environ is None else environ
    token = env.get(EXEMPTION_ENV, "").strip()
    if not token:
        return {}
    return {env.get(EXEMPT_HEADER_ENV, "").strip() or DEFAULT_EXEMPT_HEADER: token}


def shape_name(environ: Mapping[str, str] | None = None) -> str:
    """The shape to run: `ASSAY_PERF_SHAPE`, else smoke."""
    env = os.environ if environ is None else environ
    return env.get(SHAPE_ENV) or DEFAULT_SHAPE


def users_for(rps: float, user_rate: float, requests_per_iteration: float) -> int:
    """Users that, each a Poisson process of `user_rate` iterations/s, send `rps` requests/s."""
    if rps <= 0:
        return 0
    return max(1, math.ceil(rps / (user_rate * requests_per_iteration)))
