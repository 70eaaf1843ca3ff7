"""The end-of-run reset knows every fault flag and every fault the experiments can set, fails
its check naming what it could not verify, and the runner's limits and exits are explicit."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from assay.summary import Verdict, utcnow
from assay.target import Credentials, free_port
from chaos.adapter import EXPERIMENTS_DIR, summarize
from chaos.restore import CHECK_ID, FaultReset, fault_flags, reset_faults
from chaos.runner import (
    EXPERIMENT_TIMEOUT_S,
    GRACE_ENV,
    ROLLBACK_GRACE_S,
    TIMEOUT_ENV,
    ExperimentRun,
    HarnessSignals,
    Limits,
    Outcome,
)
from reference_service.flags import load_definitions

LOCAL = sorted(EXPERIMENTS_DIR.glob("*.json"))


def test_the_reset_looks_after_exactly_the_services_fault_flags() -> None:
    faults = sorted(name for name, d in load_definitions().items() if d.fault)
    assert fault_flags() == faults
    assert {"payment_latency_ms", "db_slow_query_ms"} <= set(faults)


@pytest.mark.parametrize("path", LOCAL, ids=[p.stem for p in LOCAL])
def test_every_flag_an_experiment_sets_is_one_the_reset_puts_back(path: Path) -> None:
    data = json.loads(path.read_text())
    activities = [*data["method"], *data.get("rollbacks", [])]
    providers = [a["provider"] for a in activities]
    flags = {p["arguments"]["name"] for p in providers if p.get("func") == "set_flag"}
    assert flags <= set(fault_flags())
    # The reset clears every gateway the target or stack names: both of these.
    gateways = {p["arguments"]["name"] for p in providers if p.get("func") == "set_gateway_faults"}
    assert gateways <= {"primary", "fallback"}


def test_a_target_that_cannot_be_reached_fails_the_check_naming_every_flag() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = reset_faults(nowhere, Credentials("a@example.com", "x"), {"primary": nowhere})
    assert not result.ok
    assert set(result.not_at_default) == {*fault_flags(), "gateway primary"}
    check = result.check()
    assert (check.id, check.verdict) == (CHECK_ID, Verdict.FAIL)
    assert "payment_latency_ms: not verified: ConnectError" in (check.message or "")


def test_unknown_admin_credentials_leave_the_flags_unverified_and_said_so() -> None:
    result = reset_faults(f"http://127.0.0.1:{free_port()}", None, {})
    assert "admin credentials are unknown" in result.not_at_default["db_slow_query_ms"]
    assert "no gateway known" in (result.check().message or "")


def test_a_flag_left_set_fails_the_suite_by_name(tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    out.mkdir()
    experiment = EXPERIMENTS_DIR / "04-payment-latency-spike.json"
    crashed = ExperimentRun(experiment.stem, None, Outcome.EXITED, -9, 3.0)
    faults = FaultReset(flags=fault_flags(), verified=["db_slow_query_ms"])
    faults.not_at_default["payment_latency_ms"] = "1500 (default 0), reset answered 403"
    summary = summarize(
        out, tmp_path, [experiment], utcnow(), 3.0, [], {experiment.stem: crashed}, faults
    )
    assert summary.verdict is Verdict.ERROR  # no journal judged anything
    check = next(c for c in summary.checks if c.id == CHECK_ID)
    assert check.verdict is Verdict.FAIL
    assert check.message == (
        "not at default after the run: payment_latency_ms: 1500 (default 0), reset answered 403"
    )
    assert summary.metrics["faults_reset"]["ok"] is False
    assert summary.metrics["runs"][experiment.stem]["journal"] is False


def test_limits_default_and_refuse_nonsense() -> None:
    assert Limits.from_env({}) == Limits(EXPERIMENT_TIMEOUT_S, ROLLBACK_GRACE_S)
    assert Limits.from_env({TIMEOUT_ENV: "5", GRACE_ENV: "1.5"}) == Limits(5.0, 1.5)
    for bad in ("0", "-3", "soon"):
        with pytest.raises(ValueError, match=GRACE_ENV):
            Limits.from_env({GRACE_ENV: bad})


def test_a_stopped_harness_exits_as_the_signal_asks() -> None:
    signals = HarnessSignals()
    signals.received = signal.SIGTERM
    assert isinstance(stopped := signals.exit_exception(), SystemExit)
    assert stopped.code == 143
    signals.received = signal.SIGINT
    assert isinstance(signals.exit_exception(), KeyboardInterrupt)


def test_signal_handlers_are_restored_after_the_suite() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with HarnessSignals() as signals:
        assert signal.getsignal(signal.SIGTERM) != before[signal.SIGTERM]
        signals.cleanup_begins()
        signal.raise_signal(signal.SIGTERM)  # during the cleanup: recorded, not raised
    assert signals.received is signal.SIGTERM
    assert {sig: signal.getsignal(sig) for sig in before} == before
