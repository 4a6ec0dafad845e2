"""The ledger's primitives: accounts, balances, and entries written once per key with their postings. Each is one
SQL statement (no ORM flush), so a hold and its capture cost few round trips."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from shared.db.billing_models import LedgerAccount, LedgerEntry, LedgerPosting
from shared.db.dialect import insert_for
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict, NotFound
from shared.ledger.accounts import (
    CUSTOMER_KINDS,
    AccountKind,
    EntryKind,
    customer_account,
    system_account,
)
from shared.ledger.audit import LedgerCheck, check

AVAILABLE, HELD = AccountKind.AVAILABLE, AccountKind.HELD
ACCOUNTS: Table = LedgerAccount.__table__  # type: ignore[assignment]  # declarative tables are Tables
ENTRIES: Table = LedgerEntry.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool  # False: the key was posted before, and `entry` is that first posting


@dataclass(frozen=True)
class Balance:
    available: int  # spendable now; below zero after a refund or dispute of credit already spent
    held: int  # set aside for calls in flight


class Postings:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.exports: list[str] = []  # capture entries to hand to the usage export after commit

    def open(self, customer_id: str) -> None:
        """The customer's accounts, created once (a no-op when they exist)."""
        rows = [{"id": customer_account(customer_id, k), "customer_id": customer_id, "kind": k} for k in CUSTOMER_KINDS]
        self._insert_missing(rows)

    def _insert_missing(self, rows: Sequence[Mapping[str, Any]]) -> None:
        now = utcnow()
        values = [{**r, "balance": 0, "updated_at": now} for r in rows]
        self._run(self._insert(LedgerAccount).values(values).on_conflict_do_nothing(index_elements=["id"]))

    def balance(self, customer_id: str) -> Balance:
        return self.balances([customer_id])[customer_id]

    def balances(self, customer_ids: Sequence[str]) -> dict[str, Balance]:
        """Each customer's balance, in one query (a customer without accounts has nothing)."""
        accounts = LedgerAccount
        query = select(accounts.customer_id, accounts.kind, accounts.balance).where(
            accounts.id.in_([customer_account(c, k) for c in customer_ids for k in CUSTOMER_KINDS])
        )
        found = {(customer, kind): amount for customer, kind, amount in self.s.execute(query)}
        return {c: Balance(found.get((c, AVAILABLE), 0), found.get((c, HELD), 0)) for c in customer_ids}

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
        """Write one balanced entry (`lines`: account id -> signed amount) once per `key`: a replay, or a racing
        duplicate, inserts nothing and gets the first entry back. Customer accounts' balances move in this
        transaction; system accounts keep only their postings."""
        _require_balanced(lines)
        values = _entry_values(new_uuid(), key, kind, customer_id, lines, reference, details, utcnow())
        inserted = self._run(
            self._insert(LedgerEntry)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(ENTRIES.c.id)
        ).scalar()
        if inserted is None:
            return Posted(self._entry_by_key(key), created=False)
        for account_id, delta in sorted(lines.items(), key=_lock_order):
            if not account_id.startswith("system:"):
                self._move(account_id, delta)
        self._write_postings(values["id"], lines)
        return Posted(LedgerEntry(**values), created=True)

    def _write_entry(
        self,
        entry_id: str,
        key: str,
        kind: EntryKind,
        customer_id: str,
        lines: Mapping[str, int],
        reference: str,
        details: Mapping[str, Any] | None,
        now: datetime,
    ) -> LedgerEntry:
        """An entry whose key cannot have been used (a hold's own movement) and whose balances the caller moved."""
        _require_balanced(lines)
        values = _entry_values(entry_id, key, kind, customer_id, lines, reference, details, now)
        self._run(self._insert(LedgerEntry).values(**values))
        self._write_postings(entry_id, lines)
        return LedgerEntry(**values)

    def _write_postings(self, entry_id: str, lines: Mapping[str, int]) -> None:
        rows = [{"entry_id": entry_id, "account_id": a, "amount": d} for a, d in lines.items() if d != 0]
        self._run(self._insert(LedgerPosting).values(rows))

    def _entry_by_key(self, key: str) -> LedgerEntry:
        entry = self.s.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
        if entry is None:  # the racing writer rolled back after our INSERT met its row
            raise Conflict("A concurrent posting with this key did not complete; retry.", code="ledger_retry")
        return entry

    def _move(self, account_id: str, delta: int, *, floor: int | None = None) -> bool:
        """Add `delta` to an account's balance in one statement; with `floor`, only if the result stays >= floor
        (the row lock makes the check and the change one step)."""
        accounts = ACCOUNTS.c
        stmt = (
            update(ACCOUNTS)
            .where(accounts.id == account_id)
            .values(balance=accounts.balance + delta, updated_at=utcnow())
        )
        if floor is not None:
            stmt = stmt.where(accounts.balance + delta >= floor)
        moved: bool = self._run(stmt).rowcount == 1
        if not moved and floor is None:
            raise NotFound(f"No ledger account {account_id}.", code="account_not_found")
        return moved

    def _move_customer(self, customer_id: str, available: int, held: int, *, covered: bool = False) -> bool:
        """Move a customer's two balances, `available` first, then `held`: always that order, each its own UPDATE.
        (One UPDATE of both rows would lock them in the order the scan meets them, which on PostgreSQL follows
        where their newest versions sit on the page: two such statements of one customer could lock in opposite
        orders and deadlock.) With `covered`, `available` must stay >= 0: False when it would not, and nothing moved."""
        if available or covered:
            floor = 0 if covered else None
            if not self._move(customer_account(customer_id, AVAILABLE), available, floor=floor):
                return False
        if held:
            self._move(customer_account(customer_id, HELD), held)
        return True

    def audit(self) -> LedgerCheck:
        """Every balance recomputed from the postings, every entry's sum (see `shared.ledger.audit`)."""
        return check(self.s)

    def _insert(self, model: Any) -> Any:
        """An INSERT of the model's table, in the dialect's own form (it has ON CONFLICT)."""
        return insert_for(self.s)(model.__table__)

    def _run(self, statement: Any) -> Any:
        """Run a Core statement on the session's connection, in its transaction: the ledger's writes need none of
        the ORM's statement handling, which would cost more than the round trip itself."""
        return self.s.connection().execute(statement)


def account(customer_id: str, kind: AccountKind) -> str:
    return customer_account(customer_id, kind) if kind in CUSTOMER_KINDS else system_account(kind)


def _require_balanced(lines: Mapping[str, int]) -> None:
    if not lines or sum(lines.values()) != 0:
        raise ValueError(f"an entry must sum to zero: {dict(lines)}")


def _entry_values(
    entry_id: str,
    key: str,
    kind: EntryKind,
    customer_id: str | None,
    lines: Mapping[str, int],
    reference: str | None,
    details: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "idempotency_key": key,
        "kind": str(kind),
        "customer_id": customer_id,
        "amount": sum(a for a in lines.values() if a > 0),
        "reference": reference,
        "details": dict(details or {}),
        "created_at": now,
    }


def _lock_order(item: tuple[str, int]) -> tuple[int, str]:
    """`available` before `held`, then the rest: the order every ledger writer locks a customer's rows in."""
    account_id = item[0]
    return (0 if account_id.endswith(":available") else 1 if account_id.endswith(":held") else 2, account_id)
