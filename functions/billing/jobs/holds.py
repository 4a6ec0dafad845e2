"""The holds sweep (`billing-holds-sweep`, every few minutes): a hold older than HOLD_MAX_AGE_MINUTES belongs to a
call that never settled (its instance died, its task was lost), so its credit goes back to the customer; each
expiry is its own transaction, so one bad hold cannot stop the rest. It then queues again the usage exports whose
task was lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.billing.uow import BillingUnitOfWork
from shared.bootstrap import Container
from shared.db.types import utcnow
from shared.errors import Conflict

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    expired: int
    expired_micros: int
    skipped: int  # settled by their call between the listing and the expiry


def expire_stale_holds(
    uow: Callable[[], BillingUnitOfWork], max_age: timedelta, now: datetime | None = None
) -> SweepResult:
    cutoff = (now or utcnow()) - max_age
    expired = micros = skipped = 0
    while True:
        with uow() as work:
            stale = work.ledger.stale_holds(cutoff, BATCH)
        for hold_id in stale:
            with uow() as work:
                try:
                    settled = work.ledger.release(hold_id, expired=True)
                except Conflict:  # its call captured or released it meanwhile
                    skipped += 1
                    continue
                work.commit()
            if settled.replayed:
                skipped += 1
                continue
            expired += 1
            micros += settled.hold.amount
        if len(stale) < BATCH:
            break
    if expired:
        log.info("expired %d stale holds (%d micro-USD back to their customers)", expired, micros)
    return SweepResult(expired, micros, skipped)


def sweep(c: Container) -> dict[str, Any]:
    """What `billing-holds-sweep` runs: expire stale holds, then queue again the exports whose task was lost."""
    from functions.billing.jobs import export

    result = expire_stale_holds(c.billing_uow, timedelta(minutes=c.settings.hold_max_age_minutes))
    requeued = export.requeue_unsent(c)
    return {
        "expired": result.expired,
        "expired_micros": result.expired_micros,
        "skipped": result.skipped,
        "requeued_exports": requeued,
    }
