"""Money reconciliation: the gateways' own ledgers are the oracle for the service's orders.

Invariants (judged by `reconcile`, a pure function over both sides):

- every capture at a gateway belongs to exactly one confirmed order with that amount and
  currency, or is refunded in full within the reconciliation window;
- no refund without a capture; no refund larger than its capture;
- a confirmed order has exactly one net capture across all gateways, of its total;
- a cancelled or failed order has zero net capture once the window has passed.

What the service may still settle (inside the window, or an order still pending) is
`unsettled`, not a mismatch; `check_target` / `check_service` fetch both sides over HTTP and
re-check until it settles, a mismatch shows, or a bounded timeout. A report `held` when there
is no mismatch and nothing unsettled. Suites record it with `assay.ledger.summary`.
"""

from assay.ledger.fetch import (
    DEFAULT_SETTLE_TIMEOUT_S,
    DEFAULT_WINDOW_S,
    LedgerError,
    LedgerSource,
    check_service,
    check_target,
)
from assay.ledger.models import (
    GatewayLedger,
    LedgerCharge,
    LedgerRefund,
    LedgerReport,
    Mismatch,
    MismatchKind,
    Money,
    ServiceOrder,
)
from assay.ledger.reconcile import only_orders, reconcile

__all__ = [
    "DEFAULT_SETTLE_TIMEOUT_S",
    "DEFAULT_WINDOW_S",
    "GatewayLedger",
    "LedgerCharge",
    "LedgerError",
    "LedgerRefund",
    "LedgerReport",
    "LedgerSource",
    "Mismatch",
    "MismatchKind",
    "Money",
    "ServiceOrder",
    "check_service",
    "check_target",
    "only_orders",
    "reconcile",
]
