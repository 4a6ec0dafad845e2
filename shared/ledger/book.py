"""`Ledger`: every write to the credit ledger, inside the caller's unit of work (its session; nothing commits here).

Concurrency, on PostgreSQL and SQLite alike, rests on single statements rather than read-then-write:
- an entry is `INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`: a replay or a racing duplicate
  inserts nothing and gets the first entry back, with no exception to abort the transaction;
- a hold takes credit with `UPDATE ... SET balance = balance - :x WHERE id = :available AND balance >= :x`: the row
  lock (PostgreSQL re-checks the condition after a concurrent writer commits; SQLite has one writer) makes the check
  and the debit one step, so available credit never goes below zero through a hold;
- a settlement claims its hold with `UPDATE credit_holds SET status = ... WHERE id = :id AND status = 'held'`: only
  the caller whose UPDATE matched posts anything.
A customer's rows are always locked in the same order (the hold, then `available`, then `held`), so two
transactions of one customer never deadlock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.db.billing_models import CreditHold, LedgerAccount, LedgerEntry, LedgerPosting, UsageExport
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from shared.ledger.accounts import (
    CUSTOMER_KINDS,
    SYSTEM_KINDS,
    AccountKind,
    EntryKind,
    HoldStatus,
    customer_account,
    require_amount,
    system_account,
)

AVAILABLE, HELD = AccountKind.AVAILABLE, AccountKind.HELD


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool  # False: the key was posted before, and `entry` is that first posting


@dataclass(frozen=True)
class Balance:
    available: int  # spendable now; below zero after a refund or dispute of credit already spent
    held: int  # set aside for calls in flight


@dataclass(frozen=True)
class Settled:
    hold: CreditHold
    captured: int  # what this settlement charged (0 for a release)
    entry: LedgerEntry | None  # the settlement's entry; None when the hold was settled before (a retry)
    replayed: bool = False


class Ledger:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.exports: list[str] = []  # capture entries to hand to the usage export after commit

    # -- accounts -------------------------------------------------------------------------------------------------
    def open(self, customer_id: str) -> None:
        """The customer's accounts, created once (a no-op when they exist)."""
        rows = [{"id": customer_account(customer_id, k), "customer_id": customer_id, "kind": k} for k in CUSTOMER_KINDS]
        self._insert_missing(rows)

    def open_system_accounts(self) -> None:
        self._insert_missing([{"id": system_account(k), "customer_id": None, "kind": k} for k in SYSTEM_KINDS])

    def _insert_missing(self, rows: Sequence[Mapping[str, Any]]) -> None:
        now = utcnow()
        values = [{**r, "balance": 0, "updated_at": now} for r in rows]
        self.s.execute(self._insert(LedgerAccount).values(values).on_conflict_do_nothing(index_elements=["id"]))

    def balance(self, customer_id: str) -> Balance:
        ids = {customer_account(customer_id, k): k for k in CUSTOMER_KINDS}
        found = {a.kind: a.balance for a in self.s.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(ids)))}
        return Balance(available=found.get(AVAILABLE, 0), held=found.get(HELD, 0))

    # -- entries --------------------------------------------------------------------------------------------------
    def post(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str | None,
        lines: Mapping[str, int],
        *,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Posted:
        """Write one balanced entry (`lines`: account id -> signed amount) once per `key`. Customer accounts'
        balances move in this transaction; system accounts keep only their postings."""
        if sum(lines.values()) != 0 or not lines:
            raise ValueError(f"an entry must sum to zero: {dict(lines)}")
        amount = sum(a for a in lines.values() if a > 0)
        entry_id = self.s.execute(
            self._insert(LedgerEntry)
            .values(
                id=new_uuid(),
                idempotency_key=key,
                kind=str(kind),
                customer_id=customer_id,
                amount=amount,
                reference=reference,
                details=dict(details or {}),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(LedgerEntry.id)
        ).scalar()
        if entry_id is None:
            return Posted(self._entry_by_key(key), created=False)
        for account_id, delta in sorted(lines.items(), key=_lock_order):
            if not account_id.startswith("system:"):
                self._move(account_id, delta)
        self.s.execute(
            self._insert(LedgerPosting).values(
                [{"entry_id": entry_id, "account_id": a, "amount": d} for a, d in lines.items() if d != 0]
            )
        )
        entry = self.s.get(LedgerEntry, entry_id)
        assert entry is not None
        return Posted(entry, created=True)

    def _entry_by_key(self, key: str) -> LedgerEntry:
        entry = self.s.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
        if entry is None:  # the racing writer rolled back after our INSERT met its row
            raise Conflict("A concurrent posting with this key did not complete; retry.", code="ledger_retry")
        return entry

    def _move(self, account_id: str, delta: int, *, floor: int | None = None) -> bool:
        """Add `delta` to an account's balance in one statement; with `floor`, only if the result stays >= floor."""
        stmt = (
            update(LedgerAccount)
            .where(LedgerAccount.id == account_id)
            .values(balance=LedgerAccount.balance + delta, updated_at=utcnow())
        )
        if floor is not None:
            stmt = stmt.where(LedgerAccount.balance + delta >= floor)
        moved: bool = self.s.execute(stmt).rowcount == 1  # type: ignore[attr-defined]  # a CursorResult
        if not moved and floor is None:
            raise NotFound(f"No ledger account {account_id}.", code="account_not_found")
        return moved

    # -- credit in and out ----------------------------------------------------------------------------------------
    def grant(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        amount: int,
        *,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Posted:
        """Credit bought (`PURCHASE`, from payments clearing), given (`PROMOTION`) or won back (`DISPUTE_WON`)."""
        source = {
            EntryKind.PURCHASE: AccountKind.PAYMENTS_CLEARING,
            EntryKind.PROMOTION: AccountKind.PROMOTIONS,
            EntryKind.DISPUTE_WON: AccountKind.REFUNDS,
        }[kind]
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {system_account(source): -amount, customer_account(customer_id, AVAILABLE): amount}
        return self.post(key, kind, customer_id, lines, reference=reference, details=details)

    def take_back(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        amount: int,
        *,
        reference: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Posted:
        """A refund or a dispute: the credit leaves `available`, which may go below zero (the gateway then refuses
        every call until the customer is back above it)."""
        if kind not in (EntryKind.REFUND, EntryKind.DISPUTE):
            raise ValueError(f"not a take-back: {kind}")
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {customer_account(customer_id, AVAILABLE): -amount, system_account(AccountKind.REFUNDS): amount}
        return self.post(key, kind, customer_id, lines, reference=reference, details=details)

    # -- holds ----------------------------------------------------------------------------------------------------
    def place_hold(self, key: str, customer_id: str, amount: int, description: str = "") -> CreditHold:
        """Set `amount` aside for a call; the same `key` again returns the first hold. PaymentRequired when available
        credit cannot cover it (nothing is written then; the caller's transaction must roll back)."""
        try:
            amount = require_amount(amount)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="invalid_amount") from None
        hold_id = self.s.execute(
            self._insert(CreditHold)
            .values(
                id=new_uuid(),
                customer_id=customer_id,
                idempotency_key=key,
                amount=amount,
                captured=0,
                status=HoldStatus.HELD,
                description=description[:256],
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(CreditHold.id)
        ).scalar()
        if hold_id is None:
            existing = self.s.scalar(select(CreditHold).where(CreditHold.idempotency_key == key))
            if existing is None:
                raise Conflict("A concurrent hold with this key did not complete; retry.", code="ledger_retry")
            if existing.customer_id != customer_id or existing.amount != amount:
                raise Conflict("This idempotency key was used for a different hold.", code="idempotency_key_reused")
            return existing
        if not self._move(customer_account(customer_id, AVAILABLE), -amount, floor=0):
            raise PaymentRequired(
                "Insufficient credit: add credit to your account to continue.", code="insufficient_credit"
            )
        self._move(customer_account(customer_id, HELD), amount)
        self._postings(f"hold:{hold_id}", EntryKind.HOLD, customer_id, hold_id, {AVAILABLE: -amount, HELD: amount})
        hold = self.s.get(CreditHold, hold_id)
        assert hold is not None
        return hold

    def capture(self, hold_id: str, cost: int, *, details: Mapping[str, Any] | None = None) -> Settled:
        """Charge `cost` (at most the held amount: any excess is recorded in the entry, not charged) and give the
        rest back. A second capture of the same hold returns the first; a hold released or expired is a Conflict."""
        if type(cost) is not int or cost < 0:
            raise InvalidInput(
                f"a cost must be a non-negative integer of micro-USD, not {cost!r}", code="invalid_amount"
            )
        hold = self._hold(hold_id)
        charged = min(cost, hold.amount)
        if not self._claim(hold, HoldStatus.CAPTURED, captured=charged):
            return self._settled_before(hold_id, HoldStatus.CAPTURED)
        remainder = hold.amount - charged
        if remainder:
            self._move(customer_account(hold.customer_id, AVAILABLE), remainder)
        self._move(customer_account(hold.customer_id, HELD), -hold.amount)
        lines = {HELD: -hold.amount, AVAILABLE: remainder, AccountKind.REVENUE: charged}
        extra = {"requested": cost} if cost > charged else {}
        entry = self._postings(
            f"capture:{hold.id}", EntryKind.CAPTURE, hold.customer_id, hold.id, lines, {**(details or {}), **extra}
        )
        self._link(hold, entry)
        if charged:
            self.s.add(
                UsageExport(entry_id=entry.id, customer_id=hold.customer_id, amount=charged, created_at=utcnow())
            )
            self.exports.append(entry.id)
        return Settled(hold, charged, entry)

    def release(self, hold_id: str, *, expired: bool = False) -> Settled:
        """Give a hold back in full (a failed call, or with `expired` one the sweep found too old)."""
        status = HoldStatus.EXPIRED if expired else HoldStatus.RELEASED
        hold = self._hold(hold_id)
        if not self._claim(hold, status, captured=0):
            return self._settled_before(hold_id, status)
        self._move(customer_account(hold.customer_id, AVAILABLE), hold.amount)
        self._move(customer_account(hold.customer_id, HELD), -hold.amount)
        kind = EntryKind.EXPIRY if expired else EntryKind.RELEASE
        entry = self._postings(
            f"{kind}:{hold.id}", kind, hold.customer_id, hold.id, {HELD: -hold.amount, AVAILABLE: hold.amount}
        )
        self._link(hold, entry)
        return Settled(hold, 0, entry)

    def stale_holds(self, older_than: datetime, limit: int) -> list[str]:
        stmt = (
            select(CreditHold.id)
            .where(CreditHold.status == HoldStatus.HELD, CreditHold.created_at < older_than)
            .order_by(CreditHold.created_at)
            .limit(limit)
        )
        return list(self.s.scalars(stmt))

    def hold(self, hold_id: str) -> CreditHold | None:
        return self.s.get(CreditHold, hold_id)

    def _hold(self, hold_id: str) -> CreditHold:
        hold = self.s.get(CreditHold, hold_id)
        if hold is None:
            raise NotFound(f"No hold {hold_id}.", code="hold_not_found")
        return hold

    def _claim(self, hold: CreditHold, status: HoldStatus, *, captured: int) -> bool:
        claimed = self.s.execute(
            update(CreditHold)
            .where(CreditHold.id == hold.id, CreditHold.status == HoldStatus.HELD)
            .values(status=status, captured=captured, settled_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.s.refresh(hold)
        return True

    def _settled_before(self, hold_id: str, wanted: HoldStatus) -> Settled:
        hold = self._hold(hold_id)
        self.s.refresh(hold)
        if hold.status != wanted:
            raise Conflict(f"The hold was already {hold.status}.", code=f"hold_{hold.status}")
        entry = self.s.get(LedgerEntry, hold.settle_entry_id) if hold.settle_entry_id else None
        return Settled(hold, hold.captured, entry, replayed=True)

    def _link(self, hold: CreditHold, entry: LedgerEntry) -> None:
        self.s.execute(
            update(CreditHold)
            .where(CreditHold.id == hold.id)
            .values(settle_entry_id=entry.id)
            .execution_options(synchronize_session=False)
        )
        hold.settle_entry_id = entry.id

    def _postings(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        hold_id: str,
        lines: Mapping[AccountKind, int],
        details: Mapping[str, Any] | None = None,
    ) -> LedgerEntry:
        """The entry of a hold's movement, whose balances the caller has already moved (in lock order)."""
        accounts = {
            (customer_account(customer_id, k) if k in CUSTOMER_KINDS else system_account(k)): a
            for k, a in lines.items()
        }
        if sum(accounts.values()) != 0:
            raise ValueError(f"an entry must sum to zero: {accounts}")
        entry = LedgerEntry(
            id=new_uuid(),
            idempotency_key=key,
            kind=str(kind),
            customer_id=customer_id,
            amount=sum(a for a in accounts.values() if a > 0),
            reference=hold_id,
            details=dict(details or {}),
            created_at=utcnow(),
        )
        self.s.add(entry)
        self.s.flush()
        self.s.add_all(LedgerPosting(entry_id=entry.id, account_id=a, amount=d) for a, d in accounts.items() if d)
        return entry

    def _insert(self, table: Any) -> Any:
        dialect = self.s.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _lock_order(item: tuple[str, int]) -> tuple[int, str]:
    """`available` before `held`, then the rest: the order every ledger writer locks a customer's rows in."""
    account_id = item[0]
    return (0 if account_id.endswith(":available") else 1 if account_id.endswith(":held") else 2, account_id)


def _account(customer_id: str, kind: AccountKind) -> str:
    return customer_account(customer_id, kind) if kind in CUSTOMER_KINDS else system_account(kind)
