"""Steps the ledger tests share: a customer with credit, and the ledger's state as a test reads it."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.bootstrap import Container
from shared.db.billing_models import LedgerEntry, LedgerPosting
from shared.ledger import audit
from shared.ledger.accounts import EntryKind
from shared.ledger.book import Balance


def customer_with_credit(c: Container, customer_id: str, micros: int) -> None:
    with c.billing_uow() as uow:
        uow.customers.create_if_missing(customer_id, {"email": f"{customer_id}@example.com"})
        uow.ledger.open(customer_id)
        if micros:
            uow.ledger.grant(f"promo:{customer_id}", EntryKind.PROMOTION, customer_id, micros)
        uow.commit()


def balance(c: Container, customer_id: str) -> Balance:
    with c.billing_uow() as uow:
        return uow.ledger.balance(customer_id)


def entries(c: Container, kind: EntryKind | None = None) -> int:
    with c.sessions() as s:
        query = select(func.count()).select_from(LedgerEntry)
        if kind is not None:
            query = query.where(LedgerEntry.kind == str(kind))
        return int(s.scalar(query) or 0)


def assert_balanced(c: Container) -> None:
    """Every entry sums to zero, the postings in all sum to zero, every balance row equals its postings."""
    with c.sessions() as s:
        check = audit.check(s)
        assert check.ok, check
        assert s.scalar(select(func.count()).select_from(LedgerPosting)) is not None
