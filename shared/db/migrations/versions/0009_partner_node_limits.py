"""partner-node limits: the model and gate of each hold, customer concurrency overrides, model tier overrides

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shared.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("capped", sa.Boolean(), server_default=sa.false(), nullable=False))
        # The gate counts a customer's capped holds still held, and sums what they hold.
        batch_op.create_index("ix_credit_holds_customer_id_status", ["customer_id", "status"], unique=False)
    op.create_table(
        "proxy_customer_limits",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("concurrency_override", sa.Integer(), nullable=True),
        sa.Column("updated_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_proxy_customer_limits")),
    )
    op.create_table(
        "proxy_model_tiers",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("updated_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", name=op.f("pk_proxy_model_tiers")),
    )


def downgrade() -> None:
    op.drop_table("proxy_model_tiers")
    op.drop_table("proxy_customer_limits")
    with op.batch_alter_table("credit_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_holds_customer_id_status")
        batch_op.drop_column("capped")
        batch_op.drop_column("model")
