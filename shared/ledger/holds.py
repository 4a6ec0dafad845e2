"""Holds: credit set aside for a call in flight, then captured, released or expired, each exactly once.

A hold takes credit with one conditional UPDATE of `available` (refused when it cannot cover it); a settlement claims
its hold with `UPDATE credit_holds ... WHERE id = :id AND status = 'held' RETURNING ...`, so only the caller whose
UPDATE matched posts anything, however many race. Rows are locked in one order (the hold, `available`, `held`), so
two transactions of one customer never deadlock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, select, update

from shared.db.billing_models import CreditHold, LedgerEntry, UsageExport
from shared.db.proxy_models import ProxyJob
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from shared.ledger.accounts import AccountKind, EntryKind, HoldStatus, require_amount
from shared.ledger.postings import AVAILABLE, HELD, Postings, account


@dataclass(frozen=True)
class Settled:
    hold: CreditHold
    captured: int  # what the settlement charged (0 for a release or an expiry)
    entry: LedgerEntry | None  # the settlement's entry
    replayed: bool = False  # the hold was settled before, by this same kind of settlement (a retry)


class Holds(Postings):
    def place_hold(
        self,
        key: str,
        customer_id: str,
        amount: int,
        description: str = "",
        *,
        model: str | None = None,
        capped: bool = False,
    ) -> CreditHold:
        """Set `amount` aside for a call; the same `key` again returns the first hold. PaymentRequired when available
        credit cannot cover it (the caller's transaction must then roll back). `model` and `capped` record what the
        gateway's concurrency gate counts."""
        try:
            amount = require_amount(amount)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="invalid_amount") from None
        now = utcnow()
        hold = CreditHold(
            id=new_uuid(),
            customer_id=customer_id,
            idempotency_key=key,
            amount=amount,
            captured=0,
            status=str(HoldStatus.HELD),
            description=description[:256],
            created_at=now,
            model=model[:256] if model else None,
            capped=capped,
        )
        values = {c.key: getattr(hold, c.key) for c in CreditHold.__table__.columns if c.key in _PLACED_FIELDS}
        inserted = self._run(
            self._insert(CreditHold)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(HOLDS.c.id)
        ).scalar()
        if inserted is None:
            return self._existing_hold(key, customer_id, amount)
        if not self._move_customer(customer_id, -amount, amount, covered=True):
            raise PaymentRequired(
                "Insufficient credit: add credit to your account to continue.", code="insufficient_credit"
            )
        lines = {AVAILABLE: -amount, HELD: amount}
        self._hold_entry(new_uuid(), EntryKind.HOLD, hold, lines, None, now)
        return hold

    def capture(self, hold_id: str, cost: int, *, details: Mapping[str, Any] | None = None) -> Settled:
        """Charge `cost`, at most the held amount (an excess is recorded in the entry, not charged), and give the
        rest back. A second capture returns the first; a hold released or expired is a Conflict."""
        if type(cost) is not int or cost < 0:
            message = f"a cost must be a non-negative integer of micro-USD, not {cost!r}"
            raise InvalidInput(message, code="invalid_amount")
        charged = case((HOLDS.c.amount < cost, HOLDS.c.amount), else_=cost)
        claimed = self._claim(hold_id, HoldStatus.CAPTURED, charged)
        if claimed is None:
            return self._settled_before(hold_id, HoldStatus.CAPTURED)
        hold, entry_id, now = claimed
        remainder = hold.amount - hold.captured
        self._move_customer(hold.customer_id, remainder, -hold.amount)
        lines = {HELD: -hold.amount, AVAILABLE: remainder, AccountKind.REVENUE: hold.captured}
        extra = {"requested": cost} if cost > hold.captured else {}
        entry = self._hold_entry(entry_id, EntryKind.CAPTURE, hold, lines, {**(details or {}), **extra}, now)
        if hold.captured:
            values = {"entry_id": entry_id, "customer_id": hold.customer_id, "amount": hold.captured}
            self._run(
                self._insert(UsageExport).values(**values, status="queued", attempts=0, last_error="", created_at=now)
            )
            self.exports.append(entry_id)
        return Settled(hold, hold.captured, entry)

    def release(self, hold_id: str, *, expired: bool = False) -> Settled:
        """Give a hold back in full (a failed call, or with `expired` one the sweep found too old)."""
        status = HoldStatus.EXPIRED if expired else HoldStatus.RELEASED
        claimed = self._claim(hold_id, status, 0)
        if claimed is None:
            return self._settled_before(hold_id, status)
        hold, entry_id, now = claimed
        self._move_customer(hold.customer_id, hold.amount, -hold.amount)
        kind = EntryKind.EXPIRY if expired else EntryKind.RELEASE
        entry = self._hold_entry(entry_id, kind, hold, {HELD: -hold.amount, AVAILABLE: hold.amount}, None, now)
        return Settled(hold, 0, entry)

    def stale_holds(self, older_than: datetime, limit: int) -> list[str]:
        """Holds older than `older_than`, but for those of gateway jobs still running before their own deadline (the
        gateway's settle task ends those; a job may rightly run for hours)."""
        now = utcnow()
        running_job = (
            select(ProxyJob.id)
            .where(ProxyJob.hold_id == CreditHold.id, ProxyJob.status == "pending", ProxyJob.expires_at > now)
            .exists()
        )
        stmt = (
            select(CreditHold.id)
            .where(CreditHold.status == HoldStatus.HELD, CreditHold.created_at < older_than, ~running_job)
            .order_by(CreditHold.created_at)
            .limit(limit)
        )
        return list(self.s.scalars(stmt))

    def hold(self, hold_id: str) -> CreditHold | None:
        return self.s.get(CreditHold, hold_id, populate_existing=True)

    def _claim(self, hold_id: str, status: HoldStatus, captured: Any) -> tuple[CreditHold, str, datetime] | None:
        """Move the hold out of `held` in one statement; None if it had already left it (or does not exist)."""
        entry_id, now = new_uuid(), utcnow()
        holds = HOLDS.c
        row = self._run(
            update(HOLDS)
            .where(holds.id == hold_id, holds.status == HoldStatus.HELD)
            .values(status=str(status), captured=captured, settled_at=now, settle_entry_id=entry_id)
            .returning(*(holds[f] for f in (*_HOLD_FIELDS, "settled_at", "settle_entry_id")))
        ).one_or_none()
        if row is None:
            return None
        return CreditHold(**row._asdict()), entry_id, now

    def _existing_hold(self, key: str, customer_id: str, amount: int) -> CreditHold:
        existing = self.s.scalar(select(CreditHold).where(CreditHold.idempotency_key == key))
        if existing is None:
            raise Conflict("A concurrent hold with this key did not complete; retry.", code="ledger_retry")
        if existing.customer_id != customer_id or existing.amount != amount:
            raise Conflict("This idempotency key was used for a different hold.", code="idempotency_key_reused")
        return existing

    def _settled_before(self, hold_id: str, wanted: HoldStatus) -> Settled:
        hold = self.hold(hold_id)
        if hold is None:
            raise NotFound(f"No hold {hold_id}.", code="hold_not_found")
        if hold.status != wanted:
            raise Conflict(f"The hold was already {hold.status}.", code=f"hold_{hold.status}")
        entry = self.s.get(LedgerEntry, hold.settle_entry_id) if hold.settle_entry_id else None
        return Settled(hold, hold.captured, entry, replayed=True)

    def _hold_entry(
        self,
        entry_id: str,
        kind: EntryKind,
        hold: CreditHold,
        lines: Mapping[AccountKind, int],
        details: Mapping[str, Any] | None,
        now: datetime,
    ) -> LedgerEntry:
        accounts = {account(hold.customer_id, k): a for k, a in lines.items()}
        key = f"{kind}:{hold.id}"
        return self._write_entry(entry_id, key, kind, hold.customer_id, accounts, hold.id, details, now)


HOLDS: Table = CreditHold.__table__  # type: ignore[assignment]  # declarative tables are Tables
_HOLD_FIELDS = ("id", "customer_id", "idempotency_key", "amount", "captured", "status", "description", "created_at")
_PLACED_FIELDS = (*_HOLD_FIELDS, "model", "capped")
