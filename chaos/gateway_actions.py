"""Chaos Toolkit actions on the payment gateways' own fault knobs (`PUT /_faults`).

These aim at the ambiguous windows where money goes missing: a gateway that records a charge
and then fails or stalls its answer, whose lookups by key fail, whose refunds fail. They work
on the local stack and on any target whose gateways are configured (`gateway_ledgers`);
re-exported by `chaos.actions`, so experiments name them as `chaos.actions.<func>`.
"""

from __future__ import annotations

from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed

from chaos.context import Configuration, boundary, http_client, resolve

__all__ = ["clear_gateway_faults", "set_gateway_faults"]


def _faults_url(base: str) -> str:
    return f"{base}/_faults"


@boundary
def set_gateway_faults(
    name: str, faults: dict[str, Any], configuration: Configuration = None
) -> dict[str, Any]:
    """Turn on fault knobs of one gateway ("primary" or "fallback"; empty refused), merged
    with those already on, e.g. `{"post_charge_delay_ms": 3000, "lookup_status": 503}`.

    Effect: the gateway misbehaves as told (e.g. charges, then stalls its answer) until the
    knobs are reset; the gateway refuses unknown knobs or values (422, reported).
    Rollback: `clear_gateway_faults`.
    """
    if not faults:
        raise ActivityFailed("set_gateway_faults refuses an empty set of faults")
    context = resolve(configuration)
    url = _faults_url(context.gateway_url(name))
    with http_client() as client:
        current = client.get(url)
        if current.status_code != httpx.codes.OK:
            raise ActivityFailed(f"GET {url} answered {current.status_code}")
        response = client.put(url, json={**current.json(), **faults})
    if response.status_code != httpx.codes.OK:
        raise ActivityFailed(f"gateway {name} refused faults {faults}: {response.text[:300]}")
    context.record_event("gateway_faults_set", gateway=name, faults=faults)
    return {"gateway": name, "faults": response.json()}


@boundary
def clear_gateway_faults(
    names: list[str] | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """Reset every fault knob of the named gateways (all known gateways when `names` is None).

    Effect: the gateways answer normally again. A gateway that does not answer (killed) is
    reported as unreachable, not an error: a restarted simulator starts with no faults.
    Rollback: none (this is the rollback).
    """
    context = resolve(configuration)
    chosen = list(context.gateways) if names is None else names
    if not chosen:
        raise ActivityFailed("clear_gateway_faults found no gateway to reset")
    cleared, unreachable = [], []
    with http_client() as client:
        for name in chosen:
            url = _faults_url(context.gateway_url(name))
            try:
                response = client.put(url, json={})
            except httpx.TransportError:
                unreachable.append(name)
                continue
            if response.status_code != httpx.codes.OK:
                raise ActivityFailed(f"resetting {name}'s faults answered {response.status_code}")
            cleared.append(name)
    context.record_event("gateway_faults_cleared", gateways=cleared, unreachable=unreachable)
    return {"cleared": cleared, "unreachable": unreachable}
