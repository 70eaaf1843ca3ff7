"""The journey mix's variety: popular products, varied baskets (pure, no Locust)."""

from __future__ import annotations

import random
from collections import Counter

from perf.variety import UNITS, basket, popularity

STOCKED = [101, 102, 103, 104]


def test_a_few_products_draw_most_of_the_views() -> None:
    weights = popularity(100)
    assert len(weights) == 100
    assert weights == sorted(weights)  # cumulative
    top_ten_share = weights[9] / weights[-1]
    assert 0.45 < top_ten_share < 0.6
    rng = random.Random(7)
    views = Counter(rng.choices(range(100), cum_weights=weights, k=20_000))
    assert views[0] > 10 * views[50]


def test_baskets_vary_in_lines_and_units_and_never_repeat_a_product() -> None:
    rng = random.Random(3)
    baskets = [basket(rng, STOCKED) for _ in range(2_000)]
    sizes = Counter(len(b) for b in baskets)
    assert set(sizes) == {1, 2}
    assert sizes[1] > sizes[2] > 0
    units = Counter(line["quantity"] for b in baskets for line in b)
    assert set(units) == set(UNITS)
    for lines in baskets:
        products = [line["product_id"] for line in lines]
        assert len(set(products)) == len(products)
        assert set(products) <= set(STOCKED)


def test_one_stocked_product_still_makes_a_basket() -> None:
    rng = random.Random(1)
    assert {len(basket(rng, [7])) for _ in range(200)} == {1}
