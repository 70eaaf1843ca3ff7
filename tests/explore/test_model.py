"""The exploration's model, bounds and regression files, without a target."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from explore.config import ExploreConfigError, load
from explore.model import CHECKS, Model, Product
from explore.regression import render, write

pytestmark = pytest.mark.req("REQ-ORD-005")
MAX = 100


def model(*products: tuple[int, str, int]) -> Model:
    shop = Model(max_amount=MAX)
    shop.products = [Product(i + 1, *p) for i, p in enumerate(products)]
    return shop


@pytest.mark.req("REQ-INV-001")
def test_a_checkout_beyond_stock_must_be_refused_as_out_of_stock() -> None:
    shop = model((10, "USD", 2))
    assert shop.refusals([(0, 2)]) == set()
    assert shop.refusals([(0, 3)]) == {409}
    assert shop.refusals([(0, 1), (0, 2)]) == {409}  # repeated lines add up


def test_money_range_currency_and_line_limits_are_refused_before_payment() -> None:
    shop = model((60, "USD", 10), (5, "EUR", 10), (1, "USD", 500))
    # Business rules no schema can state: 409, as the service answers (ADR-015), never 422.
    assert shop.refusals([(0, 2)]) == {409}  # 120 > MAX
    assert shop.refusals([(0, 1), (1, 1)]) == {409}  # two currencies
    assert shop.refusals([(2, 60), (2, 40)]) == {409}  # one product at 100 > 99 per order
    assert shop.refusals([]) == {409, 422}  # an empty cart (409), or an empty `items` (422)


@pytest.mark.req("REQ-CART-001")
def test_a_cart_line_in_another_currency_or_beyond_the_range_is_refused() -> None:
    shop = model((10, "USD", 1), (10, "EUR", 1), (60, "USD", 1))
    shop.carts = [{0: 1}]
    assert not shop.cart_refusal(0, 0, 5)
    assert shop.cart_refusal(0, 1, 1)
    assert shop.cart_refusal(0, 2, 2)  # 120 beyond the range, though stock is not checked


def test_every_check_names_catalog_requirements() -> None:
    from assay.catalog import load_catalog

    known = load_catalog().requirements
    for ident, spec in CHECKS.items():
        assert spec.requirements, ident
        assert set(spec.requirements) <= set(known), ident


def test_bounds_come_from_the_profile_and_the_environment() -> None:
    main = load({"ASSAY_EXPLORE_SEED": "7"})
    assert (main.profile, main.seed, main.budget_s) == ("main", 7, 60.0)
    nightly = load({"ASSAY_EXPLORE_PROFILE": "nightly", "ASSAY_EXPLORE_BUDGET_S": "1200"})
    assert nightly.budget_s == 1200
    assert nightly.max_examples > main.max_examples
    assert (main.shrink_budget_s, nightly.shrink_budget_s) == (30.0, 600.0)
    capped = load({"ASSAY_EXPLORE_BUDGET_S": "150", "ASSAY_EXPLORE_SHRINK_S": "15"})
    assert (capped.budget_s, capped.shrink_budget_s) == (150.0, 15.0)
    bad_bounds = (
        {"ASSAY_EXPLORE_BUDGET_S": "0"},
        {"ASSAY_EXPLORE_PROFILE": "weekly"},
        {"ASSAY_EXPLORE_SHRINK_S": "-1"},
    )
    for bad in bad_bounds:
        with pytest.raises(ExploreConfigError):
            load(bad)


def test_a_regression_file_is_clean_python_that_replays_the_steps(tmp_path: Path) -> None:
    steps = [
        ("register", {}),
        ("create_product", {"price": 1299, "currency": "USD", "stock": 3}),
        ("gateway_faults", {"gateway": "primary", "scenario": "charge-then-fail"}),
        ("checkout_items", {"customer": 0, "items": [[0, 1], [0, 1]], "token": "tok_visa"}),
        ("retry", {"attempt": 0, "same_body": False}),
    ]
    path = write(
        tmp_path,
        steps,
        check="explore::one-capture",
        message='double "capture" ' + "x" * 200,
        seed=3,
        run_id="r",
    )
    assert path.parent.name == "regressions"
    tree = ast.parse(path.read_text())
    literal = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "STEPS"
    )
    assert [tuple(step) for step in ast.literal_eval(literal)] == steps
    assert "REQ-PAY-003" in path.read_text()
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "E,F,W",
            "--line-length",
            "100",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    assert render(steps, check="unknown", message="x", seed=1, run_id="r").count("register") == 1
