"""How far an exploration goes: a profile, overridden by environment variables.

`ASSAY_EXPLORE_PROFILE` picks `main` (about a minute, the main job) or `nightly` (longer);
`ASSAY_EXPLORE_SEED`, `ASSAY_EXPLORE_MAX_EXAMPLES`, `ASSAY_EXPLORE_STEPS` and
`ASSAY_EXPLORE_BUDGET_S` (`assay run --budget`) override it; `ASSAY_EXPLORE_SHRINK_S` caps the
time spent shrinking a failure once found (half the budget by default). Without a seed a
random one is drawn and recorded, so every run explores elsewhere and any run can be repeated.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

PROFILE_ENV = "ASSAY_EXPLORE_PROFILE"
SEED_ENV = "ASSAY_EXPLORE_SEED"
EXAMPLES_ENV = "ASSAY_EXPLORE_MAX_EXAMPLES"
STEPS_ENV = "ASSAY_EXPLORE_STEPS"
BUDGET_ENV = "ASSAY_EXPLORE_BUDGET_S"
SHRINK_ENV = "ASSAY_EXPLORE_SHRINK_S"


class ExploreConfigError(ValueError):
    """A setting of the explore suite is not usable."""


@dataclass(frozen=True)
class ExploreConfig:
    """Seed, Hypothesis' bounds and the wall-clock budget of one exploration."""

    profile: str
    seed: int
    max_examples: int
    stateful_step_count: int
    budget_s: float
    # Time shrinking a failure may take on top of the time it took to find it (None: half
    # the budget, at least 20 s).
    shrink_s: float | None = None

    @property
    def shrink_budget_s(self) -> float:
        """Time shrinking a failure may take on top of the time it took to find it."""
        if self.shrink_s is not None:
            return self.shrink_s
        return max(20.0, self.budget_s / 2)


PROFILES: dict[str, tuple[int, int, float]] = {
    # name: (max_examples, stateful_step_count, budget_s)
    "main": (500, 20, 60.0),
    "nightly": (5000, 50, 900.0),
}


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ExploreConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise ExploreConfigError(f"{name} must be between {low:g} and {high:g}, got {raw}")
    return value


def load(environ: Mapping[str, str] | None = None) -> ExploreConfig:
    """The exploration's bounds from the environment."""
    env = os.environ if environ is None else environ
    profile = env.get(PROFILE_ENV) or "main"
    if profile not in PROFILES:
        raise ExploreConfigError(f"{PROFILE_ENV} must be one of {', '.join(PROFILES)}")
    examples, steps, budget = PROFILES[profile]
    seed = _number(env, SEED_ENV, secrets.randbelow(2**32), 0, 2**32 - 1)
    return ExploreConfig(
        profile=profile,
        seed=int(seed),
        max_examples=int(_number(env, EXAMPLES_ENV, examples, 1, 100_000)),
        stateful_step_count=int(_number(env, STEPS_ENV, steps, 1, 1000)),
        budget_s=_number(env, BUDGET_ENV, budget, 1, 86_400),
        shrink_s=_number(env, SHRINK_ENV, 0, 0, 86_400) if env.get(SHRINK_ENV) else None,
    )
