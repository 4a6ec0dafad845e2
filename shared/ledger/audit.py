"""Recompute the ledger from its postings: every entry sums to zero, the postings in all sum to zero, and each
customer account's running balance equals the sum of its postings. The reconciliation runs it daily; the tests run it
after every concurrency and fault scenario."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.billing_models import LedgerAccount, LedgerPosting


@dataclass(frozen=True)
class LedgerCheck:
    total: int  # the sum of every posting: 0
    unbalanced_entries: list[str] = field(default_factory=list)
    # account id -> (running balance, sum of its postings), where they differ
    drifted_accounts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total == 0 and not self.unbalanced_entries and not self.drifted_accounts


def check(session: Session, customer_id: str | None = None) -> LedgerCheck:
    total = session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))) or 0
    unbalanced = session.scalars(
        select(LedgerPosting.entry_id).group_by(LedgerPosting.entry_id).having(func.sum(LedgerPosting.amount) != 0)
    ).all()
    sums = (
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount).label("posted"))
        .group_by(LedgerPosting.account_id)
        .subquery()
    )
    accounts = select(LedgerAccount.id, LedgerAccount.balance, func.coalesce(sums.c.posted, 0)).outerjoin(
        sums, sums.c.account_id == LedgerAccount.id
    )
    accounts = accounts.where(LedgerAccount.customer_id.is_not(None))
    if customer_id is not None:
        accounts = accounts.where(LedgerAccount.customer_id == customer_id)
    drifted = {row[0]: (int(row[1]), int(row[2])) for row in session.execute(accounts) if int(row[1]) != int(row[2])}
    return LedgerCheck(int(total), list(unbalanced), drifted)
