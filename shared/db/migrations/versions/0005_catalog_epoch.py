"""catalog epoch: the counter that keeps every instance's read cache in step

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:00:00

One row (id 1). Each commit that emits an event adds one to `value` in the same transaction; instances read it
every READ_CACHE_CHECK_SECONDS and drop their cached reads when it moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "catalog_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_epoch")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("catalog_epoch")
