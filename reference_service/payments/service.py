"""Payment processing: the primary gateway, then the fallback; never two captures."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from reference_service.errors import DomainError
from reference_service.payments.gateway import GatewayError, GatewayResult
from reference_service.payments.resilience import ResilientGateway

log = structlog.get_logger("reference_service.payments")


class PaymentUnavailableError(DomainError):
    """No gateway could take the payment; nothing is charged (or a charge that landed on an
    order that had expired meanwhile is being refunded) and nothing is held."""

    NOTHING_CHARGED = "Payments are temporarily unavailable; nothing was charged. Retry later."

    def __init__(self, retry_after_s: int = 5, detail: str = NOTHING_CHARGED) -> None:
        super().__init__(
            "payment-unavailable",
            503,
            detail,
            title="Payment unavailable",
            headers={"Retry-After": str(retry_after_s)},
        )


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

        A gateway that surely did not charge (down, refused, breaker open, nothing found when
        looked up) hands over to the next. One that may have charged and cannot be asked
        stops the walk: trying another could capture twice. The caller then fails the order
        and leaves the uncertain charge to reconciliation.
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
        """Refund at the gateway that took the charge."""
        gateway = self.gateways.get(provider)
        if gateway is None:
            raise PaymentUnavailableError(self.retry_after_s)
        try:
            return await gateway.refund(key, charge_ref, amount)
        except GatewayError as exc:
            raise PaymentUnavailableError(self.retry_after_s) from exc

    def unavailable(self) -> PaymentUnavailableError:
        """The 503 for a checkout no gateway could take."""
        return PaymentUnavailableError(self.retry_after_s)
