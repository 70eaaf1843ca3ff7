"""Payment processing over the gateway seam."""

from __future__ import annotations

from reference_service.errors import DomainError
from reference_service.payments.gateway import GatewayError, GatewayResult, HttpGateway


class PaymentUnavailableError(DomainError):
    """No gateway could take the payment; nothing was charged or held."""

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__(
            "payment-unavailable",
            503,
            "Payments are temporarily unavailable; nothing was charged. Retry later.",
            title="Payment unavailable",
            headers={"Retry-After": str(retry_after_s)},
        )


class PaymentProcessor:
    """Charges and refunds through the configured gateways."""

    def __init__(self, gateways: list[HttpGateway]) -> None:
        if not gateways:
            raise ValueError("at least one gateway is needed")
        self.gateways = {gateway.name: gateway for gateway in gateways}
        self.primary = gateways[0]

    async def charge(self, key: str, amount: int, currency: str, token: str) -> GatewayResult:
        """Charge once for this key, or raise PaymentUnavailableError."""
        try:
            return await self.primary.charge(key, amount, currency, token)
        except GatewayError as exc:
            raise PaymentUnavailableError() from exc

    async def refund(self, key: str, provider: str, charge_ref: str, amount: int) -> GatewayResult:
        """Refund at the gateway that took the charge."""
        gateway = self.gateways.get(provider, self.primary)
        try:
            return await gateway.refund(key, charge_ref, amount)
        except GatewayError as exc:
            raise PaymentUnavailableError() from exc
