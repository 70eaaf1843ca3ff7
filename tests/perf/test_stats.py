"""The perf error count reads the catalog's `errors:`, the definition the alert rules use.

perf.stats imports Locust, whose import patches the standard library with gevent: the count is
checked in a child process so this one stays unpatched.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assay.catalog import load_catalog
from infra.observability import generate

pytestmark = pytest.mark.req("REQ-PERF-001")

COUNT = """
import json, sys
from types import SimpleNamespace
from locust.env import Environment
from assay.catalog import load_catalog
from perf.stats import ServerErrors

errors = ServerErrors()
environment = Environment()
errors.install(environment, load_catalog().errors)
for status in json.loads(sys.argv[1]):
    response = None if status is None else SimpleNamespace(status_code=status)
    environment.events.request.fire(
        request_type="GET", name=f"s {status}", response_time=1.0, response_length=0,
        response=response, context={}, exception=None,
    )
print(json.dumps(sorted(name for name, _ in errors.counts)))
"""


def test_perf_counts_as_errors_what_the_alert_rules_count() -> None:
    statuses = [200, 201, 302, 400, 402, 404, 409, 422, 429, 500, 502, 503, 504, 0, None]
    proc = subprocess.run(
        [sys.executable, "-c", COUNT, json.dumps(statuses)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    counted = json.loads(proc.stdout.splitlines()[-1])
    # No answer at all (status 0, or no response) is an error too; Prometheus never sees one.
    assert counted == ["s 0", "s 500", "s 502", "s 503", "s 504", "s None"]
    errors = load_catalog().errors
    assert errors is not None
    assert errors.promql() in generate.RULES_FILE.read_text()


EXACT = """
import json
from locust.env import Environment
from assay.catalog import load_catalog
from perf.gate import percentile
from perf.stats import ServerErrors, groups

answers = ServerErrors()
environment = Environment()
environment.create_local_runner()
answers.install(environment, load_catalog().errors)
for took in [299.6] * 95 + [120.0] * 5:
    environment.events.request.fire(
        request_type="GET", name="checkout /orders", response_time=took, response_length=0,
        response=None, context={}, exception=None,
    )
(group,) = groups(environment.stats, answers)
(entry,) = environment.stats.entries.values()
print(json.dumps({
    "exact": percentile(group.response_times, 0.95),
    "locust": percentile(dict(entry.response_times), 0.95),
    "requests": group.requests,
    "counted": sum(group.response_times.values()),
}))
"""


def test_latency_is_judged_to_the_millisecond_not_by_locusts_rounded_buckets() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", EXACT], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout.splitlines()[-1])
    # Locust files 299.6 ms under 300, which fails `p95 < 300`; the gate reads 299.
    assert figures["locust"] == 300.0
    assert figures["exact"] == 299.0
    assert figures["requests"] == figures["counted"] == 100
    latency = load_catalog().slo("SLO-LATENCY-P95")
    assert latency.met(figures["exact"])
    assert not latency.met(figures["locust"])
