"""Money probes: the payment gateways' own ledgers are the oracle for the service's orders.

`gateway_ledgers_agree` runs `assay.ledger` against the target and its gateways (in every
experiment's steady-state hypothesis, so before and after each fault); `checkouts_capture_once`
places a few checkouts while a fault is on and judges them at once by the gateways' ledgers.
Re-exported by `chaos.probes`. Both only read (and place orders): rollback none needed.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from chaoslib.exceptions import ActivityFailed

from assay.ledger import LedgerError, LedgerSource, check_service
from assay.ledger.fetch import fetch_ledgers
from chaos import traffic
from chaos.context import Configuration, Context, boundary, http_client, resolve
from chaos.verdicts import verdict

__all__ = ["checkouts_capture_once", "gateway_ledgers_agree"]

SHOWN = 5  # mismatches quoted in a journal: the figures count them all
# Without a stack to read them from, the reference service's defaults.
DEFAULT_RESERVATION_TTL_S = 120.0
DEFAULT_SWEEP_INTERVAL_S = 5.0
SETTLE_MARGIN_S = 10.0  # a charge in flight when the reservation expired: one payment budget
CHECKOUT_TIMEOUT_S = 15.0


def settlement_window_s(context: Context) -> float:
    """How long the service may take to settle a charge: a pending order waits out its
    reservation TTL, then one sweep pass; plus a payment budget for a charge in flight."""
    env = context.stack.service_env if context.stack is not None else {}
    ttl = float(env.get("RESERVATION_TTL_S", DEFAULT_RESERVATION_TTL_S))
    sweep = float(env.get("SWEEP_INTERVAL_S", DEFAULT_SWEEP_INTERVAL_S))
    return ttl + 2 * sweep + SETTLE_MARGIN_S


# Events of actions that end a fault which can keep the service from refunding: the gateways
# refusing refunds or down, fault flags, the database or the service down.
FAULT_ENDS = (
    "gateway_faults_cleared",
    "gateway_started",
    "flags_cleared",
    "postgres_started",
    "service_started",
)


def _ended_a_fault(entry: dict[str, Any]) -> bool:
    """Whether the action changed anything (a start of what was running, or a reset of
    nothing, ends no fault)."""
    if "restarted" in entry:
        return bool(entry["restarted"])
    return bool(entry.get("gateways") or entry.get("flags"))


def faults_cleared_at(context: Context) -> datetime | None:
    """When the experiments last ended a fault that can hold a refund back, if ever: a
    capture the service owes back is judged from then at the earliest (assay.ledger)."""
    ends = [float(e["at"]) for e in context.event_log(*FAULT_ENDS) if _ended_a_fault(e)]
    return datetime.fromtimestamp(max(ends), UTC) if ends else None


def _source(context: Context) -> LedgerSource:
    if not context.gateways:
        raise ActivityFailed(
            "no gateway ledgers to reconcile with: set ASSAY_GATEWAY_LEDGERS "
            "(primary=URL,fallback=URL) or run on the local stack"
        )
    email, password = context.admin_credentials()
    return LedgerSource(context.base_url, email, password, dict(context.gateways))


@boundary
def gateway_ledgers_agree(
    window_s: float | None = None,
    settle_timeout_s: float | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Every capture at every gateway belongs to exactly one confirmed order of its amount or
    was refunded in full within `window_s`; no refund without (or beyond) its capture; every
    confirmed order has one net capture. Waits up to `settle_timeout_s` for the service to
    settle what is still pending (both default to the stack's settlement window). A capture
    owed back is judged from the experiments' last fault end at the earliest: while the
    gateways refused refunds, the service could only keep asking."""
    context = resolve(configuration)
    window = settlement_window_s(context) if window_s is None else window_s
    timeout = window + 5.0 if settle_timeout_s is None else settle_timeout_s
    try:
        report = check_service(
            _source(context),
            window_s=window,
            settle_timeout_s=timeout,
            faults_cleared_at=faults_cleared_at(context),
        )
    except LedgerError as exc:
        raise ActivityFailed(f"the ledgers could not be read: {exc}") from exc
    figures = report.to_dict()
    figures["mismatch_count"] = len(report.mismatches)
    figures["unsettled_count"] = len(report.unsettled)
    figures["mismatches"] = figures["mismatches"][:SHOWN]
    figures["unsettled"] = figures["unsettled"][:SHOWN]
    held = figures.pop("held")
    return verdict(held, report.headline(), **figures)


def _ledger_keys(context: Context) -> Counter[str]:
    """How many captures each charge key has, summed over every gateway."""
    with http_client() as client:
        ledgers = fetch_ledgers(client, context.gateways)
    return Counter(
        charge.key
        for ledger in ledgers.values()
        for charge in ledger.charges
        if charge.status == "succeeded"
    )


@boundary
def checkouts_capture_once(count: int = 3, configuration: Configuration = None) -> dict[str, Any]:
    """`count` sequential checkouts (run it while a gateway fault is on): none answers a 5xx
    other than a 503 with Retry-After, and no charge key is captured at more than one gateway
    (or twice at one): a second capture for one order is a double charge, whatever the answer."""
    if not 1 <= count <= 20:
        raise ActivityFailed("checkouts_capture_once takes 1-20 checkouts")
    context = resolve(configuration)
    if not context.gateways:
        raise ActivityFailed("checkouts_capture_once needs the gateways' ledgers")
    statuses: list[int] = []
    details: list[str] = []
    # An ambiguous charge may take a payment budget per gateway and a lookup each.
    with httpx.Client(timeout=CHECKOUT_TIMEOUT_S) as client:
        token = traffic.customers(client, context.base_url, context.state_dir)[0]
        products = traffic.product_ids(client, context.base_url)
        if not products:
            raise ActivityFailed("no product with stock to order")
        for index in range(count):
            body = {
                "items": [{"product_id": products[index % len(products)], "quantity": 1}],
                "payment": {"token": "tok_visa"},
            }
            headers = {
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": f"chaos-once-{secrets.token_hex(10)}",
            }
            response = client.post(f"{context.base_url}/orders", json=body, headers=headers)
            statuses.append(response.status_code)
            if response.status_code in (200, 201):
                traffic.record_acknowledged(context.acknowledged_file, str(response.json()["id"]))
            elif response.status_code == 503:
                details.append(str(response.json().get("detail", "")))
                if "Retry-After" not in response.headers:
                    details.append("(a 503 without Retry-After)")
    problems = []
    bad = [s for s in statuses if s >= 500 and s != 503]
    if bad:
        problems.append(f"server errors {bad}")
    if "(a 503 without Retry-After)" in details:
        problems.append("a 503 without Retry-After")
    doubled = {key: n for key, n in _ledger_keys(context).items() if n > 1}
    if doubled:
        problems.append(f"{len(doubled)} charge keys captured more than once: {list(doubled)[:3]}")
    return verdict(
        not problems,
        "; ".join(problems),
        statuses=statuses,
        unavailable_details=sorted(set(details)),
        doubled=dict(list(doubled.items())[:SHOWN]),
    )
