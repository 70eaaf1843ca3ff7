"""The end of every chaos run: every fault flag and gateway fault knob back at its default.

Rollbacks undo what an experiment did only if they run; a crashed or killed `chaos run`
plays none, and a shared target would keep `payment_latency_ms` or `db_slow_query_ms` set.
So whatever happened, the suite ends here: through the admin API it puts every fault flag
(the `fault: true` flags of the service's definitions file) that is not at its default back,
clears the fault knobs of every gateway it knows, then reads them all back. The check
`chaos::faults-reset` fails naming any flag or gateway not at its default, or that could not
be read. On the local stack, a component the run left stopped is started first, so that the
service can be reached (the stack's teardown removes everything afterwards anyway).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from assay.summary import Check, Verdict
from assay.target import Credentials
from infra.local.descriptor import StackError, load_stack

FLAG_DEFINITIONS = Path(__file__).resolve().parents[1] / "config" / "feature-flags.yaml"
CHECK_ID = "chaos::faults-reset"
CHECK_TITLE = "Every fault flag and gateway fault knob is at its default when the run ends"
HTTP_TIMEOUT_S = 10.0
# Started in this order, so each finds what it depends on.
STACK_COMPONENTS = ("postgres", "redis", "gateway-primary", "gateway-fallback", "service")


def fault_flags(path: Path = FLAG_DEFINITIONS) -> list[str]:
    """The flags the service marks `fault: true` (they exist to make requests fail)."""
    flags = yaml.safe_load(path.read_text(encoding="utf-8"))["flags"]
    return sorted(name for name, definition in flags.items() if definition.get("fault"))


class _Unverified(Exception):
    """The flags or a gateway could not be read or reset."""


@dataclass
class FaultReset:
    """What the end-of-run reset did and found."""

    flags: list[str]  # the fault flags it looked after
    flags_reset: list[str] = field(default_factory=list)  # found set, put back by the harness
    gateways_reset: list[str] = field(default_factory=list)  # found with a knob on, cleared
    verified: list[str] = field(default_factory=list)  # read back at their default
    not_at_default: dict[str, str] = field(default_factory=dict)  # name -> what was found
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every fault flag and gateway read back at its default."""
        return not self.not_at_default

    def check(self) -> Check:
        """The suite's `chaos::faults-reset` check."""
        if self.not_at_default:
            message = "not at default after the run: " + "; ".join(
                f"{name}: {found}" for name, found in sorted(self.not_at_default.items())
            )
        else:
            reset = [*self.flags_reset, *(f"gateway {g}" for g in self.gateways_reset)]
            message = f"all at their defaults: {', '.join(self.verified) or 'nothing to check'}"
            message += f"; reset by the harness: {', '.join(reset)}" if reset else ""
        return Check(
            id=CHECK_ID,
            title=CHECK_TITLE,
            verdict=Verdict.PASS if self.ok else Verdict.FAIL,
            message="\n".join([message, *self.notes]),
        )

    def record(self) -> dict[str, Any]:
        """`metrics.faults_reset` in chaos/summary.json."""
        return {
            "ok": self.ok,
            "flags": self.flags,
            "flags_reset": self.flags_reset,
            "gateways_reset": self.gateways_reset,
            "verified": self.verified,
            "not_at_default": self.not_at_default,
            "notes": self.notes,
        }


def _answer(response: httpx.Response, what: str) -> Any:
    if response.status_code != httpx.codes.OK:
        raise _Unverified(f"{what} answered {response.status_code}")
    return response.json()


def _read_flags(client: httpx.Client, base_url: str, headers: dict[str, str]) -> dict[str, Any]:
    listed = _answer(client.get(f"{base_url}/admin/flags", headers=headers), "GET /admin/flags")
    return {str(flag["name"]): flag for flag in listed}


def _reset_flags(
    client: httpx.Client, base_url: str, admin: Credentials | None, result: FaultReset
) -> None:
    if admin is None:
        raise _Unverified("the target's admin credentials are unknown (ASSAY_ADMIN_EMAIL)")
    login = {"email": admin.email, "password": admin.password}
    token = _answer(client.post(f"{base_url}/auth/token", json=login), "admin login")
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    for name, flag in _read_flags(client, base_url, headers).items():
        if name in result.flags and flag["value"] != flag["default"]:
            url = f"{base_url}/admin/flags/{name}"
            answer = client.put(url, json={"value": flag["default"]}, headers=headers)
            if answer.status_code == httpx.codes.OK:
                result.flags_reset.append(name)
            else:
                result.not_at_default[name] = f"reset answered {answer.status_code}"
    found = _read_flags(client, base_url, headers)
    for name in result.flags:
        flag = found.get(name)
        if flag is None:
            result.notes.append(f"{name}: the target defines no such flag")
        elif flag["value"] == flag["default"]:
            result.verified.append(name)
        else:
            found_value = f"{flag['value']} (default {flag['default']})"
            failed_reset = result.not_at_default.get(name)
            result.not_at_default[name] = ", ".join(filter(None, [found_value, failed_reset]))


def _knobs_on(client: httpx.Client, url: str) -> dict[str, Any]:
    knobs = _answer(client.get(f"{url}/_faults"), "GET /_faults")
    return {knob: value for knob, value in knobs.items() if value}  # every knob is off when falsy


def _reset_gateway(client: httpx.Client, name: str, url: str, result: FaultReset) -> None:
    if _knobs_on(client, url):
        _answer(client.put(f"{url}/_faults", json={}), "PUT /_faults")
        result.gateways_reset.append(name)
    still = _knobs_on(client, url)
    if still:
        result.not_at_default[f"gateway {name}"] = f"knobs still on: {still}"
    else:
        result.verified.append(f"gateway {name}")


def reset_faults(
    base_url: str,
    admin: Credentials | None,
    gateways: Mapping[str, str],
    flags: Collection[str] | None = None,
) -> FaultReset:
    """Put every fault flag and gateway fault knob back to its default, then read them back."""
    result = FaultReset(flags=sorted(fault_flags() if flags is None else flags))
    base_url = base_url.rstrip("/")
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        try:
            _reset_flags(client, base_url, admin, result)
        except (_Unverified, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            reason = f"not verified: {type(exc).__name__}: {exc}"
            for name in result.flags:
                if name not in result.verified:
                    result.not_at_default.setdefault(name, reason)
        if not gateways:
            result.notes.append("no gateway known (ASSAY_GATEWAY_LEDGERS): no knob to clear")
        for name, url in sorted(gateways.items()):
            try:
                _reset_gateway(client, name, url.rstrip("/"), result)
            except (_Unverified, httpx.HTTPError, ValueError, AttributeError) as exc:
                reason = f"not verified: {type(exc).__name__}: {exc}"
                result.not_at_default[f"gateway {name}"] = reason
    return result


def restart_stopped(descriptor: Path) -> tuple[list[str], list[str]]:
    """Start every component of the local stack the run left stopped; (started, failures)."""
    stack = load_stack(descriptor)
    started, failures = [], []
    for name in STACK_COMPONENTS:
        if name in stack.components and not stack.owns(name):
            try:
                stack.start(name)
                started.append(name)
            except (StackError, RuntimeError, TimeoutError, OSError) as exc:
                failures.append(f"{name} could not be started again: {exc}")
    return started, failures


def reset_stack_faults(descriptor: Path) -> FaultReset:
    """On the local stack: start what the run left stopped, then `reset_faults` there."""
    try:
        started, failures = restart_stopped(descriptor)
        stack = load_stack(descriptor)
    except StackError as exc:
        result = FaultReset(flags=fault_flags())
        result.not_at_default = {name: f"not verified: {exc}" for name in result.flags}
        return result
    admin = Credentials(stack.admin["email"], stack.admin["password"])
    result = reset_faults(stack.service_url, admin, stack.ledgers)
    if started:
        result.notes.append(f"started again what the run left stopped: {', '.join(started)}")
    result.notes.extend(failures)
    return result
