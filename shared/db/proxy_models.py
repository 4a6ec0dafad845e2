"""The gateway's tables: partner jobs it follows to their end, the answers kept for `Idempotency-Key` replays, and
the per-customer request counters of its rate limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base
from shared.db.types import new_uuid, utcnow


class ProxyJob(Base):
    """A partner job a customer submitted through the gateway: `pending` with its hold until a poll (or the
    proxy-job-settle task) sees a terminal state, then `succeeded` (the hold captured) or `failed` (released), once."""

    __tablename__ = "proxy_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    partner: Mapped[str] = mapped_column(String(64))
    partner_job_id: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(128))  # the catalog operation that submitted it
    hold_id: Mapped[str] = mapped_column(String(36))
    price: Mapped[int] = mapped_column(BigInteger)  # micro-USD charged on success unless the partner reports its cost
    poll_url: Mapped[str | None] = mapped_column(Text)  # the partner's absolute polling URL (Black Forest Labs)
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    checks: Mapped[int] = mapped_column(Integer, default=0)  # polls made by the settle task
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    next_check_at: Mapped[datetime] = mapped_column()
    settled_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        UniqueConstraint("partner", "partner_job_id"),
        Index("ix_proxy_jobs_status_next_check_at", "status", "next_check_at"),
        Index("ix_proxy_jobs_hold_id", "hold_id"),
    )


class ProxyReplay(Base):
    """One `Idempotency-Key` of one customer: `in_flight` while its call runs, then `done` with the answer to replay
    (or `spent` when the answer was too large or streamed, so a retry is told so instead of calling again)."""

    __tablename__ = "proxy_replays"
    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_flight")
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    __table_args__ = (Index("ix_proxy_replays_expires_at", "expires_at"),)


class ProxyRateWindow(Base):
    """How many gateway calls a customer started in one minute (one upsert per call, so every instance counts)."""

    __tablename__ = "proxy_rate_windows"
    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix time // 60
    calls: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["ProxyJob", "ProxyRateWindow", "ProxyReplay"]


class ProxyCustomerLimit(Base):
    """An operator's pin of a customer's partner-node concurrency: -1 unlimited, 0 blocked, 1..200 a hard limit (no
    row, or NULL: the spend ladder decides)."""

    __tablename__ = "proxy_customer_limits"
    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    concurrency_override: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProxyModelTier(Base):
    """An operator's pin of a model's tier for the concurrency gate: `expensive` (counted) or `exempt` (never)."""

    __tablename__ = "proxy_model_tiers"
    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
