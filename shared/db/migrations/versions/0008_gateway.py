"""gateway: partner jobs followed to their end, Idempotency-Key replays, per-minute call counters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:20:33.256224
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shared.db.types


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proxy_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("partner_job_id", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=128), nullable=False),
        sa.Column("hold_id", sa.String(length=36), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("poll_url", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_jobs")),
        sa.UniqueConstraint("partner", "partner_job_id", name=op.f("uq_proxy_jobs_partner_partner_job_id")),
    )
    with op.batch_alter_table("proxy_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proxy_jobs_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_proxy_jobs_hold_id", ["hold_id"], unique=False)
        batch_op.create_index("ix_proxy_jobs_status_next_check_at", ["status", "next_check_at"], unique=False)

    op.create_table(
        "proxy_rate_windows",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "minute", name=op.f("pk_proxy_rate_windows")),
    )
    op.create_table(
        "proxy_replays",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "key", name=op.f("pk_proxy_replays")),
    )
    with op.batch_alter_table("proxy_replays", schema=None) as batch_op:
        batch_op.create_index("ix_proxy_replays_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proxy_replays", schema=None) as batch_op:
        batch_op.drop_index("ix_proxy_replays_expires_at")

    op.drop_table("proxy_replays")
    op.drop_table("proxy_rate_windows")
    with op.batch_alter_table("proxy_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_proxy_jobs_status_next_check_at")
        batch_op.drop_index("ix_proxy_jobs_hold_id")
        batch_op.drop_index(batch_op.f("ix_proxy_jobs_customer_id"))

    op.drop_table("proxy_jobs")
