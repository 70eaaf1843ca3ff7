"""The benchmark's journey-mix rows come from real `assay run perf` runs (tiny shapes here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.summary import Summary
from perf.bench import journeys
from perf.bench.targets import KNEE, LOCAL_STACK, MANAGED_DEFAULT, SUSTAINED

# The shipped shapes' names, minutes made seconds: the plumbing is what this test checks.
CONFIG = """
user_rate: 1.0
journeys: {browse: 30, search: 12, product: 25, cart: 10, checkout: 10, history: 6,
           cancel: 3, login: 2, admin: 1}
data: {users: 4, products: 2, stock: 100000}
shapes:
  sustained: {stages: [{rps: 10, duration_s: 8}]}
  step: {step: {start_rps: 5, increment_rps: 5, step_s: 4, max_rps: 10}}
ramp_s: 1
"""


@pytest.fixture
def tiny_shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "profiles.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("ASSAY_PERF_CONFIG", str(config))
    for name in ("ASSAY_PERF_SHAPE", "ASSAY_PERF_WORKERS", "ASSAY_PERF_DATA", "ASSAY_TARGET_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("ASSAY_ADMIN_EMAIL", "ASSAY_ADMIN_PASSWORD", "ASSAY_GATEWAY_LEDGERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_shapes")
def test_the_journey_mix_rows_are_read_from_each_shapes_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    sustained, knee = (row.as_json() for row in journeys.measure(runs))
    assert len(list(runs.iterdir())) == 2  # one `assay run perf` per shape
    assert sustained["key"] == SUSTAINED
    assert sustained["backend"] == MANAGED_DEFAULT
    assert sustained["measurement"] == "journey mix, sustained shape (10 RPS for 8 s)"
    figures = sustained["figures"]
    assert figures["verdict"] in {"pass", "warning", "fail"}
    assert figures["asked_rps"] == 10
    assert figures["achieved_rps"] > 0
    assert figures["requests"] > 0
    assert {"browse", "product"} <= set(figures["journey_p95_ms"])
    assert sustained["meets_target"] is False  # 10 RPS asked, 285 wanted
    assert knee["key"] == KNEE
    steps = knee["figures"]["steps"]
    assert [step["rps"] for step in steps][:1] == [5]
    assert knee["figures"]["knee_rps"] in {None, 5, 10}
    assert knee["figures"]["knee_achieved_rps"] is not None
    assert knee["meets_target"] is None  # the 1,000 RPS knee is asked of the local stack


@pytest.mark.slow
@pytest.mark.usefixtures("tiny_shapes")
def test_the_stack_rows_run_on_a_provisioned_stack_with_its_admin_and_ledgers(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    rows = [row.as_json() for row in journeys.measure_on_stack(runs)]
    assert [(row["key"], row["backend"]) for row in rows] == [
        (SUSTAINED, LOCAL_STACK),
        (KNEE, LOCAL_STACK),
    ]
    assert rows[0]["figures"]["achieved_rps"] > 0
    assert rows[1]["target"] is not None  # the 1,000 RPS knee is asked of this backend
    # Each run reached the stack's admin account and gateway ledgers, not only its URL.
    for summary_path in runs.glob("*/perf/summary.json"):
        checks = {check.id for check in Summary.read(summary_path).checks}
        assert "ledger::gateways-agree" in checks
    assert len(list(runs.glob("*/perf/summary.json"))) == 2
