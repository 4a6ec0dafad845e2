"""billing: customers, API keys, the double-entry credit ledger, holds, the customer trail, the usage export

Append-only is enforced where it matters: the billing profile (shared/db/grants.py) may only SELECT and INSERT
ledger_entries and ledger_postings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 13:36:05.447959
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db.types


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_events")),
    )
    op.create_index("ix_customer_events_customer_id_created_at", "customer_events", ["customer_id", "created_at"])

    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("metronome_customer_id", sa.String(length=255), nullable=True),
        sa.Column("signup_source", sa.String(length=64), nullable=True),
        sa.Column("subscription_tier", sa.String(length=32), nullable=True),
        sa.Column("subscription_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_status", sa.String(length=32), nullable=True),
        sa.Column("subscription_renewal_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subscription_event_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("metronome_customer_id", name=op.f("uq_customers_metronome_customer_id")),
        sa.UniqueConstraint("stripe_customer_id", name=op.f("uq_customers_stripe_customer_id")),
    )
    op.create_index(op.f("ix_customers_email"), "customers", ["email"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_ledger_entries_amount_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    op.create_index("ix_ledger_entries_customer_id_created_at", "ledger_entries", ["customer_id", "created_at"])
    op.create_index("ix_ledger_entries_kind_created_at", "ledger_entries", ["kind", "created_at"])
    op.create_index(op.f("ix_ledger_entries_reference"), "ledger_entries", ["reference"])

    op.create_table(
        "credit_holds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settle_entry_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_credit_holds_amount_positive")),
        sa.CheckConstraint("captured >= 0 AND captured <= amount", name=op.f("ck_credit_holds_captured_within_amount")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_credit_holds_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_holds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_credit_holds_idempotency_key")),
    )
    op.create_index(op.f("ix_credit_holds_customer_id"), "credit_holds", ["customer_id"])
    op.create_index("ix_credit_holds_status_created_at", "credit_holds", ["status", "created_at"])

    op.create_table(
        "customer_api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_api_keys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_api_keys")),
        sa.UniqueConstraint("digest", name=op.f("uq_customer_api_keys_digest")),
    )
    op.create_index(op.f("ix_customer_api_keys_customer_id"), "customer_api_keys", ["customer_id"])

    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_ledger_accounts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(op.f("ix_ledger_accounts_customer_id"), "ledger_accounts", ["customer_id"])

    op.create_table(
        "usage_exports",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", shared.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", shared.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_usage_exports_entry_id_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_usage_exports")),
    )
    op.create_index(op.f("ix_usage_exports_customer_id"), "usage_exports", ["customer_id"])
    op.create_index("ix_usage_exports_status_created_at", "usage_exports", ["status", "created_at"])

    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=160), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_postings_account_id_ledger_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_postings_entry_id_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(op.f("ix_ledger_postings_account_id"), "ledger_postings", ["account_id"])
    op.create_index(op.f("ix_ledger_postings_entry_id"), "ledger_postings", ["entry_id"])


    # The system accounts every function posts against exist from the start (they keep no running balance).
    accounts = sa.table(
        "ledger_accounts",
        sa.column("id", sa.String),
        sa.column("customer_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("balance", sa.BigInteger),
        sa.column("updated_at", shared.db.types.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        accounts,
        [
            {"id": f"system:{kind}", "customer_id": None, "kind": kind, "balance": 0, "updated_at": now}
            for kind in ("payments_clearing", "revenue", "promotions", "refunds")
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_postings_entry_id"), table_name="ledger_postings")
    op.drop_index(op.f("ix_ledger_postings_account_id"), table_name="ledger_postings")

    op.drop_table("ledger_postings")
    op.drop_index("ix_usage_exports_status_created_at", table_name="usage_exports")
    op.drop_index(op.f("ix_usage_exports_customer_id"), table_name="usage_exports")

    op.drop_table("usage_exports")
    op.drop_index(op.f("ix_ledger_accounts_customer_id"), table_name="ledger_accounts")

    op.drop_table("ledger_accounts")
    op.drop_index(op.f("ix_customer_api_keys_customer_id"), table_name="customer_api_keys")

    op.drop_table("customer_api_keys")
    op.drop_index("ix_credit_holds_status_created_at", table_name="credit_holds")
    op.drop_index(op.f("ix_credit_holds_customer_id"), table_name="credit_holds")

    op.drop_table("credit_holds")
    op.drop_index(op.f("ix_ledger_entries_reference"), table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_kind_created_at", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_customer_id_created_at", table_name="ledger_entries")

    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_customers_email"), table_name="customers")

    op.drop_table("customers")
    op.drop_index("ix_customer_events_customer_id_created_at", table_name="customer_events")

    op.drop_table("customer_events")
