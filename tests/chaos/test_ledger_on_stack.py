"""The ledger probe on a real provisioned stack: the ambiguous window of experiment 08 (charge
then stall, lookups and refunds failing, PostgreSQL restarted) holds on the healthy service, and
the same window against a deliberately weakened one (`PAYMENT_TRUST_FAILED_LOOKUP=true`: a failed
lookup counts as "not charged") is caught by name: a double capture.

Its own stack: the double capture stays in the gateways' ledgers for good."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos import actions, probes
from chaos.adapter import STACK_SETTINGS, warm_up
from infra.local import Stack, load_stack, provisioned_stack

pytestmark = [pytest.mark.slow, pytest.mark.exclusive]
CHARGED_THEN_UNKNOWN = {"post_charge_delay_ms": 3000, "lookup_status": 503}
WEAKENED = "PAYMENT_TRUST_FAILED_LOOKUP"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    descriptor = tmp_path_factory.mktemp("ledger-stack") / "stack.json"
    with provisioned_stack(descriptor, workers=2, settings=STACK_SETTINGS) as provisioned:
        warm_up(provisioned.service_url, provisioned.root)
        yield provisioned


@pytest.fixture
def configured(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("ASSAY_STACK_FILE", str(stack.descriptor))
    monkeypatch.delenv("ASSAY_TARGET_URL", raising=False)
    yield stack
    actions.clear_gateway_faults()
    actions.start_postgres()


def _restart_service(stack: Stack, **settings: str) -> None:
    actions.kill_service()
    current = load_stack(stack.descriptor)
    current.service_env.update(settings)
    current.save()
    actions.restart_service()


@pytest.mark.req("REQ-PAY-003", "REQ-RES-002")
def test_the_ledger_holds_through_the_window_and_catches_a_weakened_service(
    configured: Stack,
) -> None:
    before = probes.gateway_ledgers_agree()
    assert before["held"], before["reason"]

    # Experiment 08's window on the healthy service: charged, no answer, lookups failing.
    actions.set_gateway_faults("primary", {**CHARGED_THEN_UNKNOWN, "refund_status": 500})
    unknown = probes.checkouts_capture_once(count=1)
    assert unknown["held"], unknown["reason"]
    assert unknown["statuses"] == [503]  # not tried at the fallback: the outcome is unknown
    assert "nothing was charged" not in " ".join(unknown["unavailable_details"]).lower()
    actions.set_gateway_faults("primary", {"lookup_status": None})  # refunds still fail
    actions.stop_postgres(mode="fast")
    actions.start_postgres()
    assert probes.readiness_becomes(status=200, within_s=30)["held"]
    actions.clear_gateway_faults()
    # The window covers the faults' time as well as the sweep's (as experiment 08's does).
    healthy = probes.gateway_ledgers_agree(window_s=60.0, settle_timeout_s=45.0)
    assert healthy["held"], healthy["reason"]
    assert healthy["refunds"] > before["refunds"]  # the sweep refunded the unknown capture
    assert healthy["gateways"]["fallback"]["captures"] == before["gateways"]["fallback"]["captures"]

    # The same window against the weakened service: primary and fallback both capture.
    _restart_service(configured, **{WEAKENED: "true"})
    try:
        actions.set_gateway_faults("primary", CHARGED_THEN_UNKNOWN)
        doubled = probes.checkouts_capture_once(count=1)
        actions.clear_gateway_faults()
    finally:
        _restart_service(configured, **{WEAKENED: "false"})
    assert not doubled["held"]
    assert doubled["statuses"] == [201]
    assert "charge keys captured more than once" in doubled["reason"]
    broken = probes.gateway_ledgers_agree(window_s=3.0, settle_timeout_s=20.0)
    assert not broken["held"]
    assert [m["kind"] for m in broken["mismatches"]] == ["double-capture"]
    assert broken["mismatch_count"] == 1
