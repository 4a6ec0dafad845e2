"""The rows partner-node limits are decided from: a customer's concurrency override, the models' tier overrides,
lifetime paid spend (the ledger's purchases less refunds and disputes), and the customer's calls still in flight
(their holds: how many of the capped tier, and how much they hold)."""

from __future__ import annotations

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from shared.db.billing_models import CreditHold, LedgerEntry
from shared.db.dialect import insert_for
from shared.db.proxy_models import ProxyCustomerLimit, ProxyModelTier
from shared.db.types import utcnow

HELD = "held"
PAID = ("purchase",)
GIVEN_BACK = ("refund", "dispute")
RETURNED = ("dispute_won",)


class LimitRows:
    def __init__(self, session: Session) -> None:
        self.s = session

    def override(self, customer_id: str) -> int | None:
        row = self.s.get(ProxyCustomerLimit, customer_id, populate_existing=True)
        return row.concurrency_override if row is not None else None

    def set_override(self, customer_id: str, value: int | None) -> None:
        values = {"customer_id": customer_id, "concurrency_override": value, "updated_at": utcnow()}
        stmt = insert_for(self.s)(ProxyCustomerLimit).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["customer_id"], set_={"concurrency_override": value, "updated_at": values["updated_at"]}
        )
        self.s.execute(stmt)

    def lifetime_paid(self, customer_id: str) -> int:
        """Micro-USD paid in, less what went back (refunds, disputes lost), never below zero."""
        signed = case(
            (LedgerEntry.kind.in_(PAID + RETURNED), LedgerEntry.amount),
            (LedgerEntry.kind.in_(GIVEN_BACK), -LedgerEntry.amount),
            else_=0,
        )
        stmt = select(func.coalesce(func.sum(signed), 0)).where(
            LedgerEntry.customer_id == customer_id, LedgerEntry.kind.in_(PAID + RETURNED + GIVEN_BACK)
        )
        return max(0, int(self.s.scalar(stmt) or 0))

    def in_flight(self, customer_id: str) -> tuple[int, int]:
        """The customer's capped calls still holding credit, and the micro-USD all their calls hold."""
        stmt = select(
            func.coalesce(func.sum(case((CreditHold.capped.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(CreditHold.amount), 0),
        ).where(CreditHold.customer_id == customer_id, CreditHold.status == HELD)
        capped, held = self.s.execute(stmt).one()
        return int(capped), int(held)

    def tiers(self) -> dict[str, str]:
        return {row.model: row.tier for row in self.s.scalars(select(ProxyModelTier))}

    def tier(self, model: str) -> str | None:
        row = self.s.get(ProxyModelTier, model, populate_existing=True)
        return row.tier if row is not None else None

    def set_tier(self, model: str, tier: str) -> None:
        now = utcnow()
        stmt = insert_for(self.s)(ProxyModelTier).values(model=model, tier=tier, updated_at=now)
        self.s.execute(stmt.on_conflict_do_update(index_elements=["model"], set_={"tier": tier, "updated_at": now}))

    def clear_tier(self, model: str) -> None:
        self.s.execute(delete(ProxyModelTier).where(ProxyModelTier.model == model))
