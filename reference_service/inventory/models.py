"""Stock levels: the database itself refuses a negative count."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from reference_service.db import Base


class StockLevel(Base):
    """Units on hand for one product."""

    __tablename__ = "inventory"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    product_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    stock: Mapped[int] = mapped_column(Integer, default=0)
