"""the scanner's rule-set version on each judged version, and how many scans of it ran out of time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node_versions", schema=None) as batch_op:
        # NULL on versions judged before this column: the sweep counts them as judged by an older rule set.
        batch_op.add_column(sa.Column("scanner_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("scan_timeouts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of node_versions would break the search triggers on SQLite.
    op.drop_column("node_versions", "scan_timeouts")
    op.drop_column("node_versions", "scanner_version")
