"""Usage: what a customer spent, answered from the ledger (each captured charge, by period and by model, endpoint or
product), Metronome's dashboard where one is configured, and two admin operations.

`track` (TrackCustomerUsage, behind the admin secret) records usage the gateway did not meter: it is a charge like
any other, so it goes through a hold and its capture in one transaction. The hold is keyed by the caller's
`transaction_id` (`track:<id>`): available credit must cover the amount (402 otherwise; it never overdraws), the
same transaction again answers the first charge (a retry charges nothing more), the same id with another amount or
customer is a 409. The capture becomes a usage export like every other charge, so Metronome receives it through the
export queue with the ledger entry id as its transaction id.

`archive_metronome` archives the customer's Metronome record (Metronome keeps it for audit and voids its open
invoices); our ledger is append-only and keeps everything, so nothing of ours is deleted. Without Metronome: 503."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.billing.common.customers import require_customer
from shared.billing.callers import Caller
from shared.billing.ports import UsageMeter
from shared.billing.repository_ports import UsageBucket
from shared.billing.uow import BillingUnitOfWork
from shared.db.types import utcnow
from shared.errors import InvalidInput, Unavailable
from shared.ledger.book import Balance

GROUPS = ("model", "endpoint", "product")
GRANULARITIES = ("hour", "day", "month")
MAX_PERIODS = 1000  # periods of one series: 41 days by the hour, 2.7 years by the day, any range by the month


@dataclass(frozen=True)
class SeriesQuery:
    group_by: str = "model"
    granularity: str = "month"
    starting_on: datetime | None = None
    ending_before: datetime | None = None
    months: int = 6


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    group_key: str
    amount: int


@dataclass(frozen=True)
class Series:
    group_by: str
    granularity: str
    starting_on: datetime
    ending_before: datetime
    periods: list[Period]
    breakdown: list[tuple[str, int]]  # (group, micro-USD), most spent first
    total: int
    balance: Balance


@dataclass(frozen=True)
class Tracked:
    """What TrackCustomerUsage charges: `amount` micro-USD under the caller's transaction id."""

    transaction_id: str
    amount: int
    occurred_at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)  # model, endpoint, product: how usage is grouped


@dataclass(frozen=True)
class TrackResult:
    entry_id: str | None
    charged: int
    replayed: bool


# -- the customer's own usage ---------------------------------------------------------------------------------------
def dashboard(
    uow: BillingUnitOfWork,
    meter: UsageMeter,
    caller: Caller,
    dashboard_type: str,
    colors: Mapping[str, str],
    ledger_url: str,
) -> str:
    """Metronome's embeddable dashboard for the customer where Metronome is configured and knows them; otherwise
    `ledger_url`, the ledger's own series (GET /customers/usage/timeseries), which replaces the embedded page."""
    with uow:
        require_customer(uow, caller.customer_id)
    if meter.configured:
        url = meter.dashboard_url(caller.customer_id, dashboard=dashboard_type, colors=colors)
        if url:
            return url
    return ledger_url


def timeseries(uow: BillingUnitOfWork, caller: Caller, query: SeriesQuery, *, now: datetime | None = None) -> Series:
    start, end = _range(query, now or utcnow())
    with uow:
        require_customer(uow, caller.customer_id)
        rows = uow.reports.usage_buckets(caller.customer_id, start, end, query.granularity, query.group_by)
        balance = uow.ledger.balance(caller.customer_id)
    periods = [_period(b, query.granularity) for b in rows if b.amount]
    per_group: dict[str, int] = {}
    for p in periods:
        per_group[p.group_key] = per_group.get(p.group_key, 0) + p.amount
    breakdown = sorted(per_group.items(), key=lambda kv: (-kv[1], kv[0]))
    periods.sort(key=lambda p: (p.start, -p.amount, p.group_key))
    total = sum(per_group.values())
    return Series(query.group_by, query.granularity, start, end, periods, breakdown, total, balance)


def _range(query: SeriesQuery, now: datetime) -> tuple[datetime, datetime]:
    if query.group_by not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}", code="invalid_group_by")
    if query.granularity not in GRANULARITIES:
        raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}", code="invalid_granularity")
    if not 1 <= query.months <= 24:
        raise InvalidInput("months must be between 1 and 24", code="invalid_months")
    end = query.ending_before or now
    start = query.starting_on or months_before(end, query.months)
    if start >= end:
        raise InvalidInput("starting_on must be before ending_before", code="invalid_range")
    if _periods(start, end, query.granularity) > MAX_PERIODS:
        raise InvalidInput(
            f"The range holds more than {MAX_PERIODS} periods of one {query.granularity}: narrow it or use a "
            "coarser granularity.",
            code="range_too_long",
        )
    return start, end


def months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _periods(start: datetime, end: datetime, unit: str) -> int:
    if unit == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    return int((end - start) / step) + 1


def _period(bucket: UsageBucket, unit: str) -> Period:
    start = bucket.period_start.astimezone(UTC)
    if unit == "hour":
        end = start + timedelta(hours=1)
    elif unit == "day":
        end = start + timedelta(days=1)
    else:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(start, end, bucket.group_key, bucket.amount)


# -- admin ----------------------------------------------------------------------------------------------------------
def track(uow: BillingUnitOfWork, customer_id: str, usage: Tracked) -> TrackResult:
    """Charge recorded usage through a hold and its capture (see the module's docstring)."""
    details: dict[str, Any] = {**usage.details, "source": "admin", "transaction_id": usage.transaction_id}
    if usage.occurred_at is not None:
        details["occurred_at"] = usage.occurred_at.astimezone(UTC).isoformat()
    with uow:
        require_customer(uow, customer_id)
        hold = uow.ledger.place_hold(f"track:{usage.transaction_id}", customer_id, usage.amount, "tracked usage")
        settled = uow.ledger.capture(hold.id, usage.amount, details=details)
        if not settled.replayed:
            uow.record(
                customer_id, "usage_tracked", transaction_id=usage.transaction_id, amount_micros=settled.captured
            )
        uow.commit()
        entry_id = settled.entry.id if settled.entry is not None else None
    return TrackResult(entry_id, settled.captured, settled.replayed)


def archive_metronome(uow: BillingUnitOfWork, meter: UsageMeter, customer_id: str) -> bool:
    """True when Metronome had a record of the customer and archived it; False when it had none."""
    with uow:
        require_customer(uow, customer_id)
    if not meter.configured:
        raise Unavailable(
            "Metronome is not configured on this server (METRONOME_API_TOKEN is unset): there is nothing to archive.",
            code="metronome_not_configured",
            retry_after=3600,
        )
    archived = meter.archive_customer(customer_id)
    with uow:
        uow.record(customer_id, "metronome_archived", archived=archived)
        uow.commit()
    return archived
