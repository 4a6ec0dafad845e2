"""The money side's tables: customers, their API keys, the double-entry credit ledger, holds, the customer's trail
and the usage export's progress. Amounts are integer micro-USD (BigInteger) everywhere; nothing is a float."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base, Timestamped
from shared.db.types import new_uuid, utcnow


class Customer(Timestamped, Base):
    """A person who buys and spends credit; the id is their Firebase uid."""

    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    metronome_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    signup_source: Mapped[str | None] = mapped_column(String(64))
    # Set by Stripe's subscription events; `subscription_event_at` is the newest applied event's creation time, so an
    # older event that arrives late changes nothing.
    subscription_tier: Mapped[str | None] = mapped_column(String(32))
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    subscription_status: Mapped[str | None] = mapped_column(String(32))
    subscription_renewal_at: Mapped[datetime | None] = mapped_column()
    subscription_event_at: Mapped[int | None] = mapped_column(BigInteger)


class ApiKey(Base):
    """A customer's API key: only its SHA-256 digest and a display prefix are kept; the clear key is shown once."""

    __tablename__ = "customer_api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()


class LedgerAccount(Base):
    """An account of the ledger. A customer has two (`available`, `held`) whose `balance` moves in the same
    transaction as their postings; system accounts (payments clearing, revenue, promotions, refunds) keep no running
    balance (it would be one row every charge waits on): theirs is the sum of their postings."""

    __tablename__ = "ledger_accounts"
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LedgerEntry(Base):
    """One balanced movement of money (its postings sum to zero), written once per idempotency key."""

    __tablename__ = "ledger_entries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(BigInteger)  # the movement's size, positive
    reference: Mapped[str | None] = mapped_column(String(255), index=True)  # a Stripe object id, a hold id
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        Index("ix_ledger_entries_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_ledger_entries_kind_created_at", "kind", "created_at"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


class LedgerPosting(Base):
    """One line of an entry: a signed amount on one account. Append-only, like the entries."""

    __tablename__ = "ledger_postings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class CreditHold(Base):
    """Credit set aside for a call in flight: `held`, then `captured` (the cost, at most the amount; the rest
    released), `released` or `expired`. The status moves once, by a conditional UPDATE, so a settlement runs once."""

    __tablename__ = "credit_holds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="held")
    description: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column()
    settle_entry_id: Mapped[str | None] = mapped_column(String(36))
    # The gateway's call this hold is for (its catalog operation) and whether the partner-node concurrency gate
    # counts it (a model of the capped tier when it was admitted).
    model: Mapped[str | None] = mapped_column(String(256))
    capped: Mapped[bool] = mapped_column(default=False, server_default=false())
    __table_args__ = (
        Index("ix_credit_holds_status_created_at", "status", "created_at"),
        Index("ix_credit_holds_customer_id_status", "customer_id", "status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("captured >= 0 AND captured <= amount", name="captured_within_amount"),
    )


class CustomerEvent(Base):
    """The customer's trail: purchases, charges, refunds, keys created and deleted, subscription changes."""

    __tablename__ = "customer_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    customer_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_customer_events_customer_id_created_at", "customer_id", "created_at"),)


class UsageExport(Base):
    """A captured charge on its way to Metronome: queued with its entry, `sent` once Metronome accepted it (its
    `transaction_id` is the entry id, so a resend is counted once), `skipped` where no Metronome is configured."""

    __tablename__ = "usage_exports"
    entry_id: Mapped[str] = mapped_column(ForeignKey("ledger_entries.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (Index("ix_usage_exports_status_created_at", "status", "created_at"),)
