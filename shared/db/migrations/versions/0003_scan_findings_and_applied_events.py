"""scan findings and applied events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:00:06.247899
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('applied_events',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_applied_events'))
    )
    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_findings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('node_versions', schema=None) as batch_op:
        batch_op.drop_column('scanned_at')
        batch_op.drop_column('scan_findings')

    op.drop_table('applied_events')

