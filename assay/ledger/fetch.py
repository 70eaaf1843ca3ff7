"""Fetch both sides of the reconciliation over HTTP and re-check until the service settles.

The gateways' ledgers are read first, then the service's orders: an order always exists
before its charge, so every capture in the ledger snapshot has its order in the later one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from assay.ledger.models import GatewayLedger, LedgerReport, ServiceOrder
from assay.ledger.reconcile import only_orders, reconcile
from assay.target import Target

# The reference service's sweep runs every 5 s and refunds an uncertain capture on its next
# pass; 30 s leaves it a few passes and a slow gateway.
DEFAULT_WINDOW_S = 30.0
DEFAULT_SETTLE_TIMEOUT_S = 45.0
POLL_S = 1.0
PAGE_LIMIT = 200
MAX_PAGES = 1000  # 200 000 orders: more than any run here makes
HTTP_TIMEOUT_S = 10.0


class LedgerError(Exception):
    """A side of the reconciliation could not be read: the check cannot judge."""


@dataclass(frozen=True)
class LedgerSource:
    """Where both sides live: the service (with its admin account) and each gateway."""

    base_url: str
    admin_email: str
    admin_password: str = field(repr=False)
    ledgers: Mapping[str, str] = field(default_factory=dict)


def _json(response: httpx.Response, what: str) -> object:
    if response.status_code != httpx.codes.OK:
        raise LedgerError(f"{what}: {response.request.url} answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise LedgerError(f"{what}: {response.request.url} answered no JSON") from exc


def fetch_ledgers(client: httpx.Client, ledgers: Mapping[str, str]) -> dict[str, GatewayLedger]:
    """Every gateway's `GET /ledger`, by the name the target gives it."""
    fetched: dict[str, GatewayLedger] = {}
    for name, url in sorted(ledgers.items()):
        try:
            body = _json(client.get(f"{url.rstrip('/')}/ledger"), f"ledger of {name}")
            fetched[name] = GatewayLedger.model_validate(body)
        except httpx.HTTPError as exc:
            raise LedgerError(f"ledger of {name} at {url}: {type(exc).__name__}: {exc}") from exc
        except ValidationError as exc:
            raise LedgerError(f"ledger of {name} at {url} is not a ledger: {exc}") from exc
    return fetched


def admin_token(client: httpx.Client, source: LedgerSource) -> str:
    """A bearer token for the service's admin account."""
    try:
        response = client.post(
            f"{source.base_url}/auth/token",
            json={"email": source.admin_email, "password": source.admin_password},
        )
    except httpx.HTTPError as exc:
        raise LedgerError(f"admin sign-in: {type(exc).__name__}: {exc}") from exc
    body = _json(response, "admin sign-in")
    if not isinstance(body, dict) or "access_token" not in body:
        raise LedgerError("admin sign-in answered no access_token")
    return str(body["access_token"])


def fetch_orders(client: httpx.Client, base_url: str, token: str) -> list[ServiceOrder]:
    """Every order in the service's admin view, page by page (bounded)."""
    orders: list[ServiceOrder] = []
    cursor: str | None = None
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        if cursor:
            params["cursor"] = cursor
        try:
            response = client.get(f"{base_url}/admin/orders", params=params, headers=headers)
            page = _json(response, "admin orders")
            if not isinstance(page, dict):
                raise LedgerError("admin orders: the page is not an object")
            orders.extend(ServiceOrder.model_validate(item) for item in page.get("items", []))
        except httpx.HTTPError as exc:
            raise LedgerError(f"admin orders: {type(exc).__name__}: {exc}") from exc
        except ValidationError as exc:
            raise LedgerError(f"admin orders: an item is not an order: {exc}") from exc
        cursor = page.get("next_cursor")
        if not cursor:
            return orders
    raise LedgerError(f"admin orders: more than {MAX_PAGES} pages of {PAGE_LIMIT}")


def snapshot(
    client: httpx.Client,
    source: LedgerSource,
    token: str,
    user_ids: Collection[str] | None = None,
) -> tuple[dict[str, GatewayLedger], list[ServiceOrder]]:
    """Both sides, ledgers first; cut down to `user_ids`' orders when given."""
    ledgers = fetch_ledgers(client, source.ledgers)
    orders = fetch_orders(client, source.base_url, token)
    if user_ids is None:
        return ledgers, orders
    wanted = set(user_ids)
    orders = [o for o in orders if o.user_id in wanted]
    return only_orders(ledgers, orders), orders


def check_service(
    source: LedgerSource,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    settle_timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S,
    user_ids: Collection[str] | None = None,
    faults_cleared_at: datetime | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LedgerReport:
    """Reconcile until settled, a mismatch, or `settle_timeout_s`; the last report.

    `user_ids` limits the check to those users' orders (one scenario among others);
    `faults_cleared_at` is when the gateways' faults were last turned off (see `reconcile`).
    Raises LedgerError when a side cannot be read until the timeout.
    """
    if not source.ledgers:
        raise LedgerError("the target exposes no gateway ledgers")
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        token = admin_token(client, source)

        def attempt() -> LedgerReport:
            ledgers, orders = snapshot(client, source, token, user_ids)
            return reconcile(
                ledgers,
                orders,
                now=clock(),
                window_s=window_s,
                faults_cleared_at=faults_cleared_at,
            )

        def last(state: RetryCallState) -> LedgerReport:
            assert state.outcome is not None  # tenacity sets it before this call
            report: LedgerReport = state.outcome.result()  # re-raises a LedgerError
            return report

        poller = Retrying(
            stop=stop_after_delay(settle_timeout_s),
            wait=wait_fixed(POLL_S),
            retry=retry_if_exception_type(LedgerError)
            | retry_if_result(lambda report: not report.settled and not report.mismatches),
            retry_error_callback=last,
        )
        return poller(attempt)


def check_target(
    target: Target,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    settle_timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S,
    user_ids: Collection[str] | None = None,
    faults_cleared_at: datetime | None = None,
) -> LedgerReport:
    """`check_service` against a Target with its admin account and gateway ledgers."""
    if target.admin is None:
        raise LedgerError("the target's admin account is unknown (ASSAY_ADMIN_EMAIL/PASSWORD)")
    source = LedgerSource(
        base_url=target.base_url,
        admin_email=target.admin.email,
        admin_password=target.admin.password,
        ledgers=target.ledgers,
    )
    return check_service(
        source,
        window_s=window_s,
        settle_timeout_s=settle_timeout_s,
        user_ids=user_ids,
        faults_cleared_at=faults_cleared_at,
    )
