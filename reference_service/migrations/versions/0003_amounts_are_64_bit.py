"""amounts are 64-bit: every amount column holds the whole money range (money.MAX_AMOUNT)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:49:04.586429
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = (
    ("products", "price_amount"),
    ("orders", "total_amount"),
    ("order_lines", "unit_amount"),
    ("payment_attempts", "amount"),
)


def upgrade() -> None:
    for table, column in AMOUNTS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
            )


def downgrade() -> None:
    # Amounts beyond 32 bits cannot go back; PostgreSQL refuses the cast rather than lose them.
    for table, column in reversed(AMOUNTS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
            )
