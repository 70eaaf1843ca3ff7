"""Throughput pacing: each simulated user is a Poisson process of journey starts.

Arrivals are scheduled from the previous *scheduled* arrival, not from when the last
journey ended, so a user keeps its rate while the service answers in time; exponential
gaps (and a random first start) keep thousands of users from firing in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

# A user that has fallen this far behind its schedule starts afresh instead of bursting.
MAX_LAG_S = 1.0


class PoissonPacer:
    """Seconds to wait before each journey so starts form a Poisson process of `rate`/s."""

    def __init__(
        self,
        rate: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.rng = rng or random.Random()  # noqa: S311 - load timing, not security
        self.clock = clock
        self.next_at: float | None = None

    def first_delay(self) -> float:
        """A random offset for the first journey (users spawned together start apart)."""
        now = self.clock()
        self.next_at = now + self.rng.expovariate(self.rate)
        return self.next_at - now

    def wait(self) -> float:
        """Seconds until the next scheduled start (0 when already due)."""
        now = self.clock()
        if self.next_at is None:
            self.next_at = now
        self.next_at += self.rng.expovariate(self.rate)
        if now - self.next_at > MAX_LAG_S:
            self.next_at = now  # drop the backlog: no catch-up burst after a stall
        return max(0.0, self.next_at - now)
