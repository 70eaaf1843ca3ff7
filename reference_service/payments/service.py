"""Payment processing: the primary gateway, then the fallback; never two captures."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from reference_service.errors import DomainError
from reference_service.payments.gateway import GatewayError, GatewayResult
from reference_service.payments.resilience import ResilientGateway

log = structlog.get_logger("reference_service.payments")


class PaymentUnavailableError(DomainError):
    """A payment could not be completed now (503, `Retry-After`); the detail says what
    became of the money: surely nothing charged, a charge being settled (refunded if it was
    taken), or a refund not made yet. Nothing is held either way."""

    NOTHING_CHARGED = "Payments are temporarily unavailable; nothing was charged. Retry later."
    OUTCOME_SETTLING = (
        "Payments are temporarily unavailable and this payment's outcome is being settled: "
        "if it was taken, it will be refunded. Nothing is held. Retry later."
    )
    REFUND_NOT_MADE = (
        "Payments are temporarily unavailable; the refund was not confirmed and the order is "
        "unchanged. Retry later."
    )

    def __init__(self, retry_after_s: int = 5, detail: str = NOTHING_CHARGED) -> None:
        super().__init__(
            "payment-unavailable",
            503,
            detail,
            title="Payment unavailable",
            headers={"Retry-After": str(retry_after_s)},
        )


class RefundUncertainError(PaymentUnavailableError):
    """A refund may have been made (its answer was lost): the order waits, marked, for the
    reconciliation sweep, which asks again with the same refund key and settles it."""

    CANCELLATION_SETTLING = (
        "The refund's outcome is not known yet, so the cancellation is being settled: once "
        "the gateway confirms the refund, the order is cancelled and its stock released. "
        "Check the order later."
    )

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__(retry_after_s, self.CANCELLATION_SETTLING)


@dataclass(frozen=True)
class ChargeOutcome:
    """A charge's result, or None with `uncertain` when a gateway may have charged."""

    result: GatewayResult | None
    uncertain_at: str | None = None


class PaymentProcessor:
    """Charges go to the primary; if it surely did not charge, to the fallback."""

    def __init__(self, gateways: list[ResilientGateway], retry_after_s: int = 5) -> None:
        if not gateways:
            raise ValueError("at least one gateway is needed")
        self.gateways = {gateway.name: gateway for gateway in gateways}
        self.order = gateways
        self.retry_after_s = retry_after_s

    async def charge(self, key: str, amount: int, currency: str, token: str) -> ChargeOutcome:
        """Charge once for this key across gateways.

        A gateway that surely did not charge (never reached, refused with a 503, breaker
        open, or it answered that it has no charge for the key) hands over to the next. One
        that may have charged and whose lookup failed (any way at all) stops the walk:
        trying another could capture twice. The caller then fails the order and leaves the
        uncertain charge to reconciliation.
        """
        for gateway in self.order:
            try:
                return ChargeOutcome(await gateway.charge(key, amount, currency, token))
            except GatewayError as exc:
                log.warning("gateway_failed", gateway=gateway.name, ambiguous=exc.ambiguous)
                if exc.ambiguous:
                    return ChargeOutcome(None, uncertain_at=gateway.name)
        return ChargeOutcome(None)

    async def find_charge(self, provider: str, key: str) -> GatewayResult | None:
        """What a gateway knows of a charge key (GatewayError if it cannot say)."""
        return await self.gateways[provider].find_charge(key)

    async def refund(self, key: str, provider: str, charge_ref: str, amount: int) -> GatewayResult:
        """Refund at the gateway that took the charge: its answer, approved or declined.

        PaymentUnavailableError when the gateway surely did not process it (unknown, never
        reached, refused with a 503, breaker open); RefundUncertainError when it may have.
        """
        gateway = self.gateways.get(provider)
        refund_not_made = PaymentUnavailableError.REFUND_NOT_MADE
        if gateway is None:
            raise PaymentUnavailableError(self.retry_after_s, refund_not_made)
        try:
            return await gateway.refund(key, charge_ref, amount)
        except GatewayError as exc:
            log.warning("refund_failed", gateway=provider, ambiguous=exc.ambiguous)
            if exc.ambiguous:
                raise RefundUncertainError(self.retry_after_s) from exc
            raise PaymentUnavailableError(self.retry_after_s, refund_not_made) from exc

    def unavailable(self, *, uncertain: bool = False) -> PaymentUnavailableError:
        """The 503 for a checkout no gateway took: nothing charged, or (`uncertain`) a
        gateway may have charged and the outcome is being settled."""
        error = PaymentUnavailableError
        detail = error.OUTCOME_SETTLING if uncertain else error.NOTHING_CHARGED
        return error(self.retry_after_s, detail)
