"""What makes the journey mix look like shoppers rather than a loop: a few products draw most
of the views (Zipf-like popularity), baskets differ in lines and units, and some cards are
declined. Pure: the journeys (`perf.journeys`) draw from these with each user's own generator.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

# Popularity of the n-th most viewed product, proportional to 1 / n ** POPULARITY_EXPONENT: with
# 1.0 (Zipf's law) the top 10 of 100 products draw about half the product views.
POPULARITY_EXPONENT = 1.0
# Lines in a basket and units of a line, with their shares.
LINES = (1, 2)
LINE_SHARES = (0.8, 0.2)
UNITS = (1, 2, 3)
UNIT_SHARES = (0.7, 0.2, 0.1)
DECLINED_TOKEN = "tok_decline"  # noqa: S105 - the reference gateway's test token that declines
APPROVED_TOKEN = "tok_visa"  # noqa: S105 - and the one that approves


def popularity(count: int, exponent: float = POPULARITY_EXPONENT) -> list[float]:
    """Cumulative weights of `count` items ranked by popularity (for `random.choices`)."""
    return list(itertools.accumulate(1.0 / rank**exponent for rank in range(1, count + 1)))


def basket(rng: random.Random, stocked: list[int]) -> list[dict[str, Any]]:
    """An order's lines: one or two distinct stocked products, one to three units each."""
    lines = min(rng.choices(LINES, LINE_SHARES)[0], len(stocked))
    return [
        {"product_id": product_id, "quantity": rng.choices(UNITS, UNIT_SHARES)[0]}
        for product_id in rng.sample(stocked, lines)
    ]
