"""Every table, imported in one place so Alembic and tests see the whole schema."""

from reference_service.admin.models import AuditEntry
from reference_service.cart.models import CartLine
from reference_service.catalog.models import Product
from reference_service.db import Base
from reference_service.events.models import OutboxEvent
from reference_service.flags import FlagRow
from reference_service.inventory.models import StockLevel
from reference_service.orders.models import IdempotencyRecord, Order, OrderLine
from reference_service.payments.models import PaymentAttempt
from reference_service.users.models import User

__all__ = [
    "AuditEntry",
    "Base",
    "CartLine",
    "FlagRow",
    "IdempotencyRecord",
    "Order",
    "OrderLine",
    "OutboxEvent",
    "PaymentAttempt",
    "Product",
    "StockLevel",
    "User",
]
