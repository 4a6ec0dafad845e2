"""The gateway's rows: partner jobs (settled once, by a conditional UPDATE), Idempotency-Key replays (claimed by an
INSERT ... ON CONFLICT DO NOTHING) and per-minute call counters (one upsert)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from shared.db.billing_models import CreditHold
from shared.db.dialect import insert_for
from shared.db.proxy_models import ProxyJob, ProxyRateWindow, ProxyReplay

PENDING = "pending"


class Jobs:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, job: ProxyJob) -> None:
        self.s.add(job)
        self.s.flush()

    def get(self, job_id: str) -> ProxyJob | None:
        return self.s.get(ProxyJob, job_id, populate_existing=True)

    def find(self, partner: str, partner_job_id: str) -> ProxyJob | None:
        stmt = select(ProxyJob).where(ProxyJob.partner == partner, ProxyJob.partner_job_id == partner_job_id)
        return self.s.scalar(stmt.execution_options(populate_existing=True))

    def finish(self, job_id: str, status: str, now: datetime) -> bool:
        """Move a pending job to `status`; False when another settlement moved it first."""
        stmt = (
            update(ProxyJob)
            .where(ProxyJob.id == job_id, ProxyJob.status == PENDING)
            .values(status=status, settled_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(self.s.execute(stmt).rowcount)  # type: ignore[attr-defined]  # a CursorResult

    def reschedule(self, job_id: str, next_check_at: datetime) -> None:
        stmt = (
            update(ProxyJob)
            .where(ProxyJob.id == job_id, ProxyJob.status == PENDING)
            .values(next_check_at=next_check_at, checks=ProxyJob.checks + 1)
            .execution_options(synchronize_session=False)
        )
        self.s.execute(stmt)

    def due(self, now: datetime, limit: int) -> list[str]:
        stmt = (
            select(ProxyJob.id)
            .where(ProxyJob.status == PENDING, ProxyJob.next_check_at <= now)
            .order_by(ProxyJob.next_check_at)
            .limit(limit)
        )
        return list(self.s.scalars(stmt))


class Replays:
    def __init__(self, session: Session) -> None:
        self.s = session

    def claim(
        self,
        customer_id: str,
        key: str,
        fingerprint: str,
        now: datetime,
        expires_at: datetime,
        *,
        stale_before: datetime,
    ) -> ProxyReplay | None:
        """Take the key for a new call (None), or return the record already holding it. An expired record, or one
        left in flight since before `stale_before` (a crash), is removed and the key taken afresh."""
        over = or_(
            ProxyReplay.expires_at <= now,
            and_(ProxyReplay.state == "in_flight", ProxyReplay.created_at < stale_before),
        )
        self.s.execute(delete(ProxyReplay).where(ProxyReplay.customer_id == customer_id, ProxyReplay.key == key, over))
        values = {
            "customer_id": customer_id,
            "key": key,
            "fingerprint": fingerprint,
            "state": "in_flight",
            "headers": {},
            "created_at": now,
            "expires_at": expires_at,
        }
        inserted = self.s.execute(
            insert_for(self.s)(ProxyReplay)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["customer_id", "key"])
            .returning(ProxyReplay.key)
        ).scalar()
        if inserted is not None:
            return None
        stmt = select(ProxyReplay).where(ProxyReplay.customer_id == customer_id, ProxyReplay.key == key)
        return self.s.scalar(stmt.execution_options(populate_existing=True))

    def record(
        self, customer_id: str, key: str, state: str, status_code: int, headers: Mapping[str, str], body: bytes | None
    ) -> None:
        stmt = (
            update(ProxyReplay)
            .where(ProxyReplay.customer_id == customer_id, ProxyReplay.key == key)
            .values(state=state, status_code=status_code, headers=dict(headers), body=body)
            .execution_options(synchronize_session=False)
        )
        self.s.execute(stmt)

    def release(self, customer_id: str, key: str) -> None:
        """Give the key back: nothing reached the partner, so the same key may be used again."""
        self.s.execute(delete(ProxyReplay).where(ProxyReplay.customer_id == customer_id, ProxyReplay.key == key))

    def purge(self, now: datetime) -> int:
        result = self.s.execute(delete(ProxyReplay).where(ProxyReplay.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult


class RateWindows:
    def __init__(self, session: Session) -> None:
        self.s = session

    def count(self, customer_id: str, minute: int) -> int:
        """Count one more call in this minute and return the minute's count so far (this call included)."""
        stmt = insert_for(self.s)(ProxyRateWindow).values(customer_id=customer_id, minute=minute, calls=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["customer_id", "minute"], set_={"calls": ProxyRateWindow.__table__.c.calls + 1}
        ).returning(ProxyRateWindow.calls)
        return int(self.s.execute(stmt).scalar_one())

    def in_flight(self, customer_id: str) -> int:
        """The customer's calls whose credit is still held (synchronous calls running, jobs not yet over)."""
        stmt = select(func.count()).where(CreditHold.customer_id == customer_id, CreditHold.status == "held")
        return int(self.s.scalar(stmt) or 0)

    def purge(self, before_minute: int) -> None:
        self.s.execute(delete(ProxyRateWindow).where(ProxyRateWindow.minute < before_minute))
