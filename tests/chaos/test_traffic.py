"""What a burst's measurement says about requests that got no answer at all."""

from __future__ import annotations

import pytest

from chaos import traffic


@pytest.mark.req("REQ-RES-001")
def test_unanswered_requests_are_failures_named_by_their_transport_error() -> None:
    samples = [
        traffic.Sample(0.0, "browse", 200, 10.0),
        traffic.Sample(1.0, "checkout", 503, 12.0),
        traffic.Sample(2.0, "browse", 0, 5000.0, error="ReadTimeout"),
        traffic.Sample(3.0, "product", 0, 3.0, error="RemoteProtocolError"),
        traffic.Sample(4.0, "product", 0, 3.0, error="RemoteProtocolError"),
    ]
    measured = traffic.measure(samples)
    assert measured["error_rate_pct"] == 80.0
    assert measured["statuses"] == {"200": 1, "503": 1, "0": 3}
    assert measured["unanswered"] == {"ReadTimeout": 1, "RemoteProtocolError": 2}
    # No answer has no latency: the p95 is of the answered requests only.
    assert measured["p95_ms"] is not None
    assert measured["p95_ms"] <= 12.0
