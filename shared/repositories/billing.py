"""Customers, their API keys, their trail and the usage export's rows (the ledger itself is shared.ledger.book)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from shared.billing.repository_ports import LAST_USED_RESOLUTION, UNGROUPED, CustomerFilters, UsageBucket
from shared.db.billing_models import ApiKey, Customer, CustomerEvent, LedgerEntry, UsageExport
from shared.db.dialect import insert_for
from shared.db.models import User
from shared.db.types import utcnow

__all__ = [
    "LAST_USED_RESOLUTION",
    "UNGROUPED",
    "ApiKeys",
    "CustomerEvents",
    "CustomerFilters",
    "Customers",
    "LedgerReports",
    "UsageBucket",
    "UsageExports",
]


class Customers:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, customer_id: str, *, lock: bool = False) -> Customer | None:
        return self.s.get(Customer, customer_id, with_for_update=lock)

    def create_if_missing(self, customer_id: str, values: Mapping[str, Any]) -> bool:
        """Insert the customer unless it exists (two first calls may race); True if this call created it."""
        insert = insert_for(self.s)
        now = utcnow()
        created = self.s.execute(
            insert(Customer)
            .values(id=customer_id, is_admin=False, created_at=now, updated_at=now, **values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(Customer.id)
        ).scalar()
        return created is not None

    def by_stripe_id(self, stripe_customer_id: str) -> Customer | None:
        return self.s.scalar(select(Customer).where(Customer.stripe_customer_id == stripe_customer_id))

    def search(self, filters: CustomerFilters, page: int, limit: int) -> tuple[Sequence[Customer], int]:
        conditions: list[ColumnElement[bool]] = []
        for column, value in (
            (Customer.email, filters.email),
            (Customer.name, filters.name),
            (Customer.stripe_customer_id, filters.stripe_id),
            (Customer.metronome_customer_id, filters.metronome_id),
        ):
            if value:
                conditions.append(func.lower(column).contains(value.lower(), autoescape=True))
        where = and_(*conditions) if conditions else None
        count = select(func.count()).select_from(Customer)
        rows = select(Customer).order_by(Customer.created_at, Customer.id).offset((page - 1) * limit).limit(limit)
        if where is not None:
            count, rows = count.where(where), rows.where(where)
        return self.s.scalars(rows).all(), int(self.s.scalar(count) or 0)

    def is_registry_admin(self, customer_id: str) -> bool:
        """`users.is_admin` of the registry's user row: the other way (besides the Firebase claim) to be an admin."""
        return bool(self.s.scalar(select(User.is_admin).where(User.id == customer_id)))


class ApiKeys:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, key: ApiKey) -> None:
        self.s.add(key)

    def get(self, key_id: str) -> ApiKey | None:
        return self.s.get(ApiKey, key_id)

    def live_for(self, customer_id: str) -> Sequence[ApiKey]:
        stmt = (
            select(ApiKey)
            .where(ApiKey.customer_id == customer_id, ApiKey.deleted_at.is_(None))
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
        return self.s.scalars(stmt).all()

    def by_digest(self, key_digest: str) -> ApiKey | None:
        return self.s.scalar(select(ApiKey).where(ApiKey.digest == key_digest))

    def usable(self, key_digest: str, now: datetime) -> ApiKey | None:
        """The key with this digest if it is neither deleted nor expired."""
        stmt = select(ApiKey).where(
            ApiKey.digest == key_digest,
            ApiKey.deleted_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
        return self.s.scalar(stmt)

    def touch(self, key_id: str, now: datetime) -> None:
        self.s.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )

    def delete(self, key: ApiKey, now: datetime) -> None:
        """Deleted keys stay as rows (the trail and the migration sync name them) but never authenticate again."""
        key.deleted_at = now


class CustomerEvents:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, customer_id: str, type_: str, details: Mapping[str, Any]) -> None:
        self.s.add(CustomerEvent(customer_id=customer_id, type=type_, details=dict(details), created_at=utcnow()))

    def page(
        self,
        customer_id: str,
        types: Sequence[str],
        window: tuple[datetime | None, datetime | None],
        page: int,
        limit: int,
    ) -> tuple[Sequence[CustomerEvent], int]:
        where = [CustomerEvent.customer_id == customer_id]
        if types:
            where.append(CustomerEvent.type.in_(types))
        start, end = window
        if start is not None:
            where.append(CustomerEvent.created_at >= start)
        if end is not None:
            where.append(CustomerEvent.created_at < end)
        rows = (
            select(CustomerEvent)
            .where(*where)
            .order_by(CustomerEvent.created_at.desc(), CustomerEvent.id)
            .offset((page - 1) * limit)
            .limit(limit)
        )
        total = self.s.scalar(select(func.count()).select_from(CustomerEvent).where(*where))
        return self.s.scalars(rows).all(), int(total or 0)


class UsageExports:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, entry_id: str) -> UsageExport | None:
        return self.s.get(UsageExport, entry_id)

    def entry(self, entry_id: str) -> LedgerEntry | None:
        return self.s.get(LedgerEntry, entry_id)

    def unsent_before(self, before: datetime, limit: int) -> list[str]:
        stmt = (
            select(UsageExport.entry_id)
            .where(UsageExport.status == "queued", UsageExport.created_at < before)
            .order_by(UsageExport.created_at)
            .limit(limit)
        )
        return list(self.s.scalars(stmt))

    def mark(self, entry_id: str, status: str, *, error: str = "") -> None:
        values: dict[str, Any] = {"status": status, "attempts": UsageExport.attempts + 1, "last_error": error[:2000]}
        if status == "sent":
            values["sent_at"] = utcnow()
        self.s.execute(
            update(UsageExport)
            .where(UsageExport.entry_id == entry_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


_SQLITE_TRUNC = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00", "month": "%Y-%m-01 00:00:00"}


class LedgerReports:
    """Read-only questions about the ledger that reconciliation and the usage pages ask: purchases by their Stripe
    object, charges by customer and by period. A charge is a capture entry's usage export row (its amount is what
    the capture charged; captures of nothing have no row)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def purchases_for(self, keys: Sequence[str], references: Sequence[str]) -> list[LedgerEntry]:
        """Purchase entries posted under any of `keys` or naming any of `references` (Stripe object ids)."""
        found: dict[str, LedgerEntry] = {}
        for start in range(0, max(len(keys), len(references)), 400):
            stmt = select(LedgerEntry).where(
                LedgerEntry.kind == "purchase",
                or_(
                    LedgerEntry.idempotency_key.in_(keys[start : start + 400]),
                    LedgerEntry.reference.in_(references[start : start + 400]),
                ),
            )
            found.update((e.id, e) for e in self.s.scalars(stmt))
        return list(found.values())

    def purchases_between(self, since: datetime, until: datetime) -> list[LedgerEntry]:
        stmt = (
            select(LedgerEntry)
            .where(LedgerEntry.kind == "purchase", LedgerEntry.created_at >= since, LedgerEntry.created_at < until)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
        return list(self.s.scalars(stmt))

    def charged_by_customer(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        """customer id -> export status (`queued`, `sent`, `skipped`) -> micro-USD charged by captures made in the
        window."""
        stmt = (
            select(UsageExport.customer_id, UsageExport.status, func.sum(UsageExport.amount))
            .join(LedgerEntry, LedgerEntry.id == UsageExport.entry_id)
            .where(LedgerEntry.created_at >= since, LedgerEntry.created_at < until)
            .group_by(UsageExport.customer_id, UsageExport.status)
        )
        totals: dict[str, dict[str, int]] = {}
        for customer_id, status, amount in self.s.execute(stmt):
            totals.setdefault(customer_id, {})[status] = int(amount or 0)
        return totals

    def usage_buckets(
        self, customer_id: str, since: datetime, until: datetime, unit: str, group_by: str
    ) -> list[UsageBucket]:
        """The customer's charges summed per `unit` (hour, day, month; UTC) and per group."""
        if unit not in _SQLITE_TRUNC:
            raise ValueError(f"not a period: {unit}")
        if self.s.get_bind().dialect.name == "postgresql":
            period: Any = func.date_trunc(unit, func.timezone("UTC", LedgerEntry.created_at))
        else:
            period = func.strftime(_SQLITE_TRUNC[unit], LedgerEntry.created_at)
        group = func.coalesce(
            LedgerEntry.details[group_by].as_string(), LedgerEntry.details["product"].as_string(), UNGROUPED
        )
        stmt = (
            select(period.label("period"), group.label("group_key"), func.sum(UsageExport.amount))
            .join(UsageExport, UsageExport.entry_id == LedgerEntry.id)
            .where(
                LedgerEntry.customer_id == customer_id,
                LedgerEntry.kind == "capture",
                LedgerEntry.created_at >= since,
                LedgerEntry.created_at < until,
            )
            .group_by("period", "group_key")  # by label: PostgreSQL would not match two copies of the bound values
        )
        return [UsageBucket(_utc(start), str(key), int(amount or 0)) for start, key, amount in self.s.execute(stmt)]


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
