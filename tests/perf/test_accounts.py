"""How many customer accounts a perf run registers, and what it refuses to run."""

from __future__ import annotations

import math

import pytest

from perf.config import PerfConfig, load_config, users_for
from perf.data import DataError, prepare
from perf.plan import (
    ORDER_LIMIT_SHARE,
    PlanError,
    accounts_for,
    orders_per_iteration,
    requests_per_iteration,
)

SHIPPED = load_config(environ={})


def _with(config: PerfConfig, **data: float) -> PerfConfig:
    return config.model_copy(update={"data": config.data.model_copy(update=data)})


def test_the_sustained_shape_spreads_its_orders_under_the_documented_limit() -> None:
    # The shipped mix at 300 RPS: 40 accounts would place about 38 orders a minute each,
    # over the reference service's 30 a minute.
    peak = SHIPPED.shape("sustained").peak_rps
    users = users_for(peak, SHIPPED.user_rate, requests_per_iteration(SHIPPED))
    per_user = SHIPPED.user_rate * 60 * orders_per_iteration(SHIPPED)
    assert users * per_user / SHIPPED.data.users > SHIPPED.data.orders_per_account_per_minute
    accounts = accounts_for(SHIPPED, peak)
    busiest = math.ceil(users / accounts) * per_user
    assert busiest <= ORDER_LIMIT_SHARE * SHIPPED.data.orders_per_account_per_minute
    assert accounts > SHIPPED.data.users


def test_a_light_shape_keeps_the_configured_accounts() -> None:
    assert accounts_for(SHIPPED, SHIPPED.shape("smoke").peak_rps) == SHIPPED.data.users


def test_a_retry_counts_against_the_limit_and_a_mix_without_orders_needs_no_more() -> None:
    retries = SHIPPED.model_copy(update={"retry_share": 1.0})
    assert orders_per_iteration(retries) > orders_per_iteration(SHIPPED)
    browsing = SHIPPED.model_copy(update={"journeys": {"browse": 1, "product": 1}})
    assert orders_per_iteration(browsing) == 0
    assert accounts_for(browsing, 3000) == SHIPPED.data.users


def test_a_plan_no_account_count_can_carry_is_refused_with_the_reason() -> None:
    # One user alone would place about 8 orders a minute against a limit of 5.
    with pytest.raises(PlanError, match="one simulated user places"):
        accounts_for(_with(SHIPPED, orders_per_account_per_minute=5), 300)
    # Enough accounts exist in principle, but more than a run registers.
    with pytest.raises(PlanError, match="accounts to stay under"):
        accounts_for(_with(SHIPPED, orders_per_account_per_minute=20), 100_000)


def test_without_admin_a_run_that_orders_refuses_before_it_touches_the_target() -> None:
    # Nothing is listening on this port: the refusal comes before any request.
    with pytest.raises(DataError, match="never buys the target's own stock"):
        prepare("http://127.0.0.1:9", SHIPPED.data, None, None, buys=True)
