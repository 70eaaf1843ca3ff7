"""Faults the exploration turns on: the service's fault flags and the gateways' own knobs.

The gateway scenarios are the ambiguous windows where money goes missing: a charge recorded
and then answered with an error or too late, lookups by key that fail, refunds that fail.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from explore.api import Shop

# Flag -> values the exploration may set; the first is "off".
FLAGS: dict[str, tuple[bool | int | float, ...]] = {
    "payment_error_rate": (0.0, 0.5, 1.0),
    "payment_latency_ms": (0, 300, 1500),
    "payment_primary_down": (False, True),
    "payment_fallback_down": (False, True),
}
# Longer than the reference service's attempt timeout (1 s): the answer comes too late.
STALL_MS = 1500
# Scenario -> the gateway's whole fault configuration (`PUT /_faults` replaces it).
SCENARIOS: dict[str, dict[str, Any]] = {
    "off": {},
    "charge-then-fail": {"charge_answer_status": 500},
    "charge-then-stall": {"post_charge_delay_ms": STALL_MS},
    "lookups-fail": {"lookup_status": 500},
    "charge-then-fail-lookups-fail": {"charge_answer_status": 502, "lookup_status": 503},
    "charge-then-stall-lookups-fail": {"post_charge_delay_ms": STALL_MS, "lookup_status": 500},
    "refunds-fail": {"refund_status": 500},
}
# What the exploration picks from, the windows where money goes missing first (Hypothesis
# leans to the front of a list), and "off" twice so faults end as often as they start.
SCENARIO_CHOICES = (
    "charge-then-fail-lookups-fail",
    "charge-then-stall-lookups-fail",
    "charge-then-fail",
    "charge-then-stall",
    "lookups-fail",
    "refunds-fail",
    "off",
    "off",
)
# Charged, then no usable answer: only a lookup by key can tell what happened.
AMBIGUOUS = SCENARIO_CHOICES[:4]
# After every fault is off, a breaker may stay open this long (the reference service's
# recovery is 10 s); until then a 503 is no sign of a fault-free outage.
QUIET_S = 30.0


@dataclass
class FaultState:
    """Which faults are on, and since when none has been: shared by every example of a run."""

    flags: dict[str, bool | int | float] = field(default_factory=dict)
    gateways: dict[str, str] = field(default_factory=dict)
    last_fault_at: float | None = None

    def _touch(self) -> None:
        if self.active():
            self.last_fault_at = time.monotonic()

    def active(self) -> bool:
        """Whether any fault is on right now."""
        on_flags = any(value != FLAGS[name][0] for name, value in self.flags.items())
        return on_flags or any(scenario != "off" for scenario in self.gateways.values())

    def quiet_s(self) -> float:
        """Seconds since the last fault was on (infinite if none ever was)."""
        if self.active():
            return 0.0
        if self.last_fault_at is None:
            return float("inf")
        return time.monotonic() - self.last_fault_at

    def may_fail(self) -> bool:
        """Whether a payment may fairly be unavailable now (a fault is or was lately on)."""
        self._touch()
        return self.quiet_s() < QUIET_S

    def flag(self, name: str, value: bool | int | float) -> None:
        """Note a flag the service now holds."""
        self.flags[name] = value
        self._touch()

    def gateway(self, shop: Shop, gateway: str, scenario: str) -> None:
        """Apply a scenario's knobs to a gateway."""
        shop.set_faults(gateway, SCENARIOS[scenario])
        self.gateways[gateway] = scenario
        self._touch()

    def reset(self, shop: Shop) -> None:
        """Every fault this run turned on, off again."""
        self._touch()
        for name, value in list(self.flags.items()):
            if value != FLAGS[name][0]:
                shop.set_flag(name, FLAGS[name][0])
            self.flags[name] = FLAGS[name][0]
        for gateway, scenario in list(self.gateways.items()):
            if scenario != "off":
                shop.set_faults(gateway, SCENARIOS["off"])
            self.gateways[gateway] = "off"


def reset_everything(shop: Shop, gateways: Mapping[str, str]) -> None:
    """Every flag and gateway knob the exploration uses, off (whatever this process knows)."""
    for name, values in FLAGS.items():
        shop.set_flag(name, values[0])
    for gateway in gateways:
        shop.set_faults(gateway, SCENARIOS["off"])
