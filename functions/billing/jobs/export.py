"""The usage export: each captured charge becomes one usage record in Metronome, sent by its own task.

`export` is what one `usage-export` task does (the billing-usage-export function in the cloud, the in-process queue
locally). Its record's `transaction_id` is the ledger entry id, so Metronome counts it once however often it is sent:
a task may run twice, a resend after a lost answer is harmless. A row moves `queued` -> `sent` (or `skipped` where
no Metronome is configured: the ledger alone meters); a failure leaves it `queued` with the error and the attempt
counted, and raises, so the task answers 503 and Cloud Tasks retries it with backoff.

The queue (terraform/tasks.tf, USAGE_EXPORT_QUEUE) retries a failed task 20 times, backing off from 10 s, doubling,
up to an hour (about 12 hours in all), at most 20 dispatches a second and 20 at once. Longer is not needed: a task
that gives up leaves its row `queued`, and `requeue_unsent` (called by billing-holds-sweep) queues such rows
again under a new key each hour, and the reconciliation reports what Metronome still lacks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.billing.ports import TaskQueue, UsageMeter, UsageRecord
from shared.billing.uow import USAGE_EXPORT, BillingUnitOfWork
from shared.db.types import utcnow
from shared.errors import InvalidInput, NotFound, Unavailable

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)

QUEUED, SENT, SKIPPED = "queued", "sent", "skipped"
# Details of a capture that travel to Metronome as properties (the gateway writes them; timeseries groups by them).
PROPERTY_KEYS = ("model", "endpoint", "product", "source")
REQUEUE_AFTER = timedelta(minutes=5)
REQUEUE_BATCH = 500


class ExportFailed(Unavailable):
    """Metronome did not take the record; the row stays `queued` with the error, and the task is retried."""


@dataclass(frozen=True)
class Exported:
    entry_id: str
    status: str  # sent, skipped, or already_sent


def export(uow_factory: Callable[[], BillingUnitOfWork], meter: UsageMeter, entry_id: str) -> Exported:
    """Send the usage record of one captured charge (see the module's docstring)."""
    with uow_factory() as uow:
        row = uow.exports.get(entry_id)
        entry = uow.exports.entry(entry_id)
        if row is None or entry is None:
            raise NotFound(f"No usage export for entry {entry_id}.", code="usage_export_not_found")
        if row.status == SENT:
            return Exported(entry_id, "already_sent")
        if row.status == SKIPPED:
            return Exported(entry_id, SKIPPED)
        if not meter.configured:
            uow.exports.mark(entry_id, SKIPPED)
            uow.commit()
            return Exported(entry_id, SKIPPED)
        record = UsageRecord(
            transaction_id=entry.id,
            customer_id=row.customer_id,
            timestamp=entry.created_at,
            amount_micros=row.amount,
            properties=_properties(entry.details),
        )
    # Metronome is called outside any transaction: no row stays locked while it answers.
    try:
        meter.send([record])
    except Exception as exc:
        error = _describe(exc)
        with uow_factory() as uow:
            uow.exports.mark(entry_id, QUEUED, error=error)
            uow.commit()
        log.warning("usage export of %s failed: %s", entry_id, error)
        raise ExportFailed(f"The usage record was not sent: {error}", code="usage_export_failed") from exc
    with uow_factory() as uow:
        uow.exports.mark(entry_id, SENT)
        uow.commit()
    return Exported(entry_id, SENT)


def run_task(c: Container, payload: Mapping[str, Any]) -> dict[str, str]:
    """One task's body (`{"entry_id": ...}`) through `export`: the billing-usage-export function and the local
    stack's in-process queue both call this."""
    entry_id = payload.get("entry_id")
    if not isinstance(entry_id, str) or not entry_id or len(entry_id) > 64:
        raise InvalidInput('The task body must be {"entry_id": "<ledger entry id>"}.', code="invalid_task")
    done = export(c.billing_uow, c.usage_meter, entry_id)
    return {"entry_id": done.entry_id, "status": done.status}


def requeue_unsent(c: Container, *, now: datetime | None = None) -> int:
    """Queue again the exports still `queued` REQUEUE_AFTER after their capture (an enqueue that failed after
    commit, or a task that gave up). The key carries the hour, so Cloud Tasks takes one new task per row and hour
    (its name de-duplication would refuse the original key for about an hour after the first task ran)."""
    moment = now or utcnow()
    with c.billing_uow() as uow:
        entry_ids = uow.exports.unsent_before(moment - REQUEUE_AFTER, REQUEUE_BATCH)
    return _requeue(c.tasks, entry_ids, moment)


def _requeue(tasks: TaskQueue, entry_ids: list[str], moment: datetime) -> int:
    hour = int(moment.timestamp()) // 3600
    queued = 0
    for entry_id in entry_ids:
        try:
            tasks.enqueue(USAGE_EXPORT, {"entry_id": entry_id}, key=f"usage-{entry_id}-h{hour}")
            queued += 1
        except Exception:
            log.exception("could not queue the usage export of %s again", entry_id)
    return queued


def _properties(details: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(details[k])[:256] for k in PROPERTY_KEYS if isinstance(details.get(k), str | int)}


def _describe(exc: Exception) -> str:
    """What went wrong, for the row's `last_error`: the error's own message (the adapters' never carry secrets)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:2000]
