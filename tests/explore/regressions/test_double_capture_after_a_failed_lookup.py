"""Regression found by `assay run explore` (run 20261202T012715Z-cb24e7, seed 12).

It broke explore::one-capture: double capture: one confirmed checkout of 612 USD captured 2
times: ch_0f5d9885a2f740e9a232f759 at primary (612 USD), ch_6e91635797e147beb06bbf42 at fallback
(612 USD)

Found against a service started with PAYMENT_TRUST_FAILED_LOOKUP=true (a lookup that fails
after an ambiguous charge trusted as "not charged"): the fallback charged again. A healthy
service answers that checkout 503 (outcome being settled) and refunds the primary's capture.

Replays the shortest failing step sequence against ASSAY_TARGET_URL, or against a reference
service Assay starts when it is unset: `pytest <this file>`.
Replay on a quiet target: a breaker that a recent fault opened sends a checkout
straight to the fallback, and the window may not open.
"""

import pytest

from explore.regression import replay

pytestmark = [pytest.mark.slow, pytest.mark.req("REQ-PAY-003")]

STEPS = [
    ("register", {}),
    ("create_product", {"price": 365, "currency": "EUR", "stock": 22}),
    ("cart_set", {"customer": 0, "product": 0, "quantity": 95}),
    ("set_price", {"product": 0, "price": 612, "currency": "USD"}),
    ("checkout_cart", {"customer": 0, "token": "tok_visa"}),
    ("set_flag", {"name": "payment_latency_ms", "value": 300}),
    ("checkout_items", {"customer": 0, "items": [[0, 1], [0, 80]], "token": "tok_visa"}),
    ("register", {}),
    ("gateway_faults", {"gateway": "primary", "scenario": "charge-then-fail-lookups-fail"}),
    ("checkout_items", {"customer": 1, "items": [[0, 1]], "token": "tok_visa"}),
]


def test_one_capture_replays_clean() -> None:
    replay(STEPS)
