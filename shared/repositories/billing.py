"""Customers, their API keys, their trail and the usage export's rows (the ledger itself is shared.ledger.book)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.db.billing_models import ApiKey, Customer, CustomerEvent, LedgerEntry, UsageExport
from shared.db.models import User
from shared.db.types import utcnow

# A key's last-used time is written at most this often, so a busy key costs no write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CustomerFilters:
    email: str = ""
    name: str = ""
    stripe_id: str = ""
    metronome_id: str = ""


class Customers:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, customer_id: str, *, lock: bool = False) -> Customer | None:
        return self.s.get(Customer, customer_id, with_for_update=lock)

    def create_if_missing(self, customer_id: str, values: Mapping[str, Any]) -> bool:
        """Insert the customer unless it exists (two first calls may race); True if this call created it."""
        insert = pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert
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
        self, customer_id: str, types: Sequence[str], page: int, limit: int
    ) -> tuple[Sequence[CustomerEvent], int]:
        where = [CustomerEvent.customer_id == customer_id]
        if types:
            where.append(CustomerEvent.type.in_(types))
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
