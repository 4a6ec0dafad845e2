"""The ledger of the billing fakes (see tests/fakes_billing.py): `FakeLedger` moves credit as shared.ledger.book.Ledger
does (balanced entries written once per idempotency key; a hold refused when available credit cannot cover it, then
captured, released or expired once), and `FakeLedgerReports` answers the questions of shared/repositories/billing.py's
LedgerReports from the same rows. What the SQL ledger proves about races and lost connections is not modelled:
tests/billing/test_ledger*.py prove it on both databases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.billing.repository_ports import UNGROUPED, UsageBucket
from shared.db.billing_models import CreditHold, LedgerEntry, UsageExport
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from shared.ledger.accounts import AccountKind, EntryKind, HoldStatus, customer_account, require_amount, system_account
from shared.ledger.audit import LedgerCheck
from shared.ledger.book import Balance, Posted, Settled

if TYPE_CHECKING:
    from tests.fakes_billing import BillingStore

AVAILABLE, HELD = AccountKind.AVAILABLE, AccountKind.HELD


class _Repo:
    def __init__(self, store: BillingStore) -> None:
        self.db = store


class FakeLedgerReports(_Repo):
    def purchases_for(self, keys: Sequence[str], references: Sequence[str]) -> list[LedgerEntry]:
        return [
            e
            for e in self.db.entries.values()
            if e.kind == EntryKind.PURCHASE and (e.idempotency_key in keys or e.reference in references)
        ]

    def purchases_between(self, since: datetime, until: datetime) -> list[LedgerEntry]:
        found = [e for e in self.db.entries.values() if e.kind == EntryKind.PURCHASE and since <= e.created_at < until]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    def charged_by_customer(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for row in self.db.exports.values():
            entry = self.db.entry(row.entry_id)
            if entry is not None and since <= entry.created_at < until:
                by_status = totals.setdefault(row.customer_id, {})
                by_status[row.status] = by_status.get(row.status, 0) + row.amount
        return totals

    def usage_buckets(
        self, customer_id: str, since: datetime, until: datetime, unit: str, group_by: str
    ) -> list[UsageBucket]:
        if unit not in ("hour", "day", "month"):
            raise ValueError(f"not a period: {unit}")
        sums: dict[tuple[datetime, str], int] = {}
        for row in self.db.exports.values():
            entry = self.db.entry(row.entry_id)
            if entry is None or entry.customer_id != customer_id or entry.kind != EntryKind.CAPTURE:
                continue
            if not since <= entry.created_at < until:
                continue
            key = (_truncate(entry.created_at, unit), _group(entry.details, group_by))
            sums[key] = sums.get(key, 0) + row.amount
        return [UsageBucket(start, group, amount) for (start, group), amount in sums.items()]


def _truncate(moment: datetime, unit: str) -> datetime:
    start = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if unit in ("day", "month"):
        start = start.replace(hour=0)
    return start.replace(day=1) if unit == "month" else start


def _group(details: Mapping[str, Any], group_by: str) -> str:
    for name in (group_by, "product"):
        if details.get(name) is not None:
            return str(details[name])
    return UNGROUPED


_FIELDS: dict[type, tuple[str, ...]] = {
    CreditHold: (
        "id",
        "customer_id",
        "idempotency_key",
        "amount",
        "captured",
        "status",
        "description",
        "created_at",
        "settled_at",
        "settle_entry_id",
    ),
    UsageExport: ("entry_id", "customer_id", "amount", "status", "attempts", "last_error", "created_at", "sent_at"),
}


def copy_row(model: Any, row: Any, **changes: Any) -> Any:
    """The row as an UPDATE leaves it, as a new object: what was read before keeps what it read."""
    return model(**{**{f: getattr(row, f) for f in _FIELDS[model]}, **changes})


class FakeLedger(_Repo):
    """shared.ledger.book.Ledger over the store: the same entries, postings, balances and errors."""

    def __init__(self, store: BillingStore) -> None:
        super().__init__(store)
        self.exports: list[str] = []  # capture entries to hand to the usage export after commit

    def open(self, customer_id: str) -> None:
        for kind in (AVAILABLE, HELD):
            self.db.accounts.setdefault(customer_account(customer_id, kind), 0)

    def audit(self) -> LedgerCheck:
        return self.db.audit()

    def balance(self, customer_id: str) -> Balance:
        get = self.db.accounts.get
        return Balance(get(customer_account(customer_id, AVAILABLE), 0), get(customer_account(customer_id, HELD), 0))

    def balances(self, customer_ids: Sequence[str]) -> dict[str, Balance]:
        return {c: self.balance(c) for c in customer_ids}

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
        source = {
            EntryKind.PURCHASE: AccountKind.PAYMENTS_CLEARING,
            EntryKind.PROMOTION: AccountKind.PROMOTIONS,
            EntryKind.DISPUTE_WON: AccountKind.REFUNDS,
        }[kind]
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {system_account(source): -amount, customer_account(customer_id, AVAILABLE): amount}
        return self._post(key, kind, customer_id, lines, reference, details)

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
        if kind not in (EntryKind.REFUND, EntryKind.DISPUTE):
            raise ValueError(f"not a take-back: {kind}")
        amount = require_amount(amount)
        self.open(customer_id)
        lines = {customer_account(customer_id, AVAILABLE): -amount, system_account(AccountKind.REFUNDS): amount}
        return self._post(key, kind, customer_id, lines, reference, details)

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
        try:
            amount = require_amount(amount)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="invalid_amount") from None
        existing = next((h for h in self.db.holds.values() if h.idempotency_key == key), None)
        if existing is not None:
            if existing.customer_id != customer_id or existing.amount != amount:
                raise Conflict("This idempotency key was used for a different hold.", code="idempotency_key_reused")
            return existing
        available = self.db.accounts.get(customer_account(customer_id, AVAILABLE))
        if available is None or available < amount:
            raise PaymentRequired(
                "Insufficient credit: add credit to your account to continue.", code="insufficient_credit"
            )
        hold = CreditHold(
            id=new_uuid(),
            customer_id=customer_id,
            idempotency_key=key,
            amount=amount,
            captured=0,
            status=str(HoldStatus.HELD),
            description=description[:256],
            created_at=utcnow(),
        )
        self.db.holds[hold.id] = hold
        self._hold_entry(EntryKind.HOLD, hold, {AVAILABLE: -amount, HELD: amount}, None)
        return hold

    def capture(self, hold_id: str, cost: int, *, details: Mapping[str, Any] | None = None) -> Settled:
        if type(cost) is not int or cost < 0:
            message = f"a cost must be a non-negative integer of micro-USD, not {cost!r}"
            raise InvalidInput(message, code="invalid_amount")
        held = self._claimable(hold_id, HoldStatus.CAPTURED)
        if isinstance(held, Settled):
            return held
        charged = min(cost, held.amount)
        lines = {HELD: -held.amount, AVAILABLE: held.amount - charged, AccountKind.REVENUE: charged}
        extra = {"requested": cost} if cost > charged else {}
        hold, entry = self._settle(
            held, HoldStatus.CAPTURED, charged, EntryKind.CAPTURE, lines, {**(details or {}), **extra}
        )
        if charged:
            self.db.exports[entry.id] = UsageExport(
                entry_id=entry.id,
                customer_id=hold.customer_id,
                amount=charged,
                status="queued",
                attempts=0,
                last_error="",
                created_at=entry.created_at,
            )
            self.exports.append(entry.id)
        return Settled(hold, charged, entry)

    def release(self, hold_id: str, *, expired: bool = False) -> Settled:
        status = HoldStatus.EXPIRED if expired else HoldStatus.RELEASED
        held = self._claimable(hold_id, status)
        if isinstance(held, Settled):
            return held
        kind = EntryKind.EXPIRY if expired else EntryKind.RELEASE
        hold, entry = self._settle(held, status, 0, kind, {HELD: -held.amount, AVAILABLE: held.amount}, None)
        return Settled(hold, 0, entry)

    def stale_holds(self, older_than: datetime, limit: int) -> list[str]:
        stale = [h for h in self.db.holds.values() if h.status == HoldStatus.HELD and h.created_at < older_than]
        return [h.id for h in sorted(stale, key=lambda h: h.created_at)][:limit]

    def _claimable(self, hold_id: str, wanted: HoldStatus) -> CreditHold | Settled:
        """The hold if it is still held; else what its settlement was (a replay), NotFound, or a Conflict."""
        hold = self.db.holds.get(hold_id)
        if hold is not None and hold.status == HoldStatus.HELD:
            return hold
        if hold is None:
            raise NotFound(f"No hold {hold_id}.", code="hold_not_found")
        if hold.status != wanted:
            raise Conflict(f"The hold was already {hold.status}.", code=f"hold_{hold.status}")
        entry = self.db.entry(hold.settle_entry_id) if hold.settle_entry_id else None
        return Settled(hold, hold.captured, entry, replayed=True)

    def _settle(
        self,
        held: CreditHold,
        status: HoldStatus,
        captured: int,
        kind: EntryKind,
        lines: Mapping[AccountKind, int],
        details: Mapping[str, Any] | None,
    ) -> tuple[CreditHold, LedgerEntry]:
        entry = self._hold_entry(kind, held, lines, details)
        hold = copy_row(
            CreditHold,
            held,
            status=str(status),
            captured=captured,
            settled_at=entry.created_at,
            settle_entry_id=entry.id,
        )
        self.db.holds[hold.id] = hold
        return hold, entry

    def _hold_entry(
        self, kind: EntryKind, hold: CreditHold, lines: Mapping[AccountKind, int], details: Mapping[str, Any] | None
    ) -> LedgerEntry:
        accounts = {
            customer_account(hold.customer_id, k) if k in (AVAILABLE, HELD) else system_account(k): a
            for k, a in lines.items()
        }
        return self._post(f"{kind}:{hold.id}", kind, hold.customer_id, accounts, hold.id, details).entry

    def _post(
        self,
        key: str,
        kind: EntryKind,
        customer_id: str,
        lines: Mapping[str, int],
        reference: str | None,
        details: Mapping[str, Any] | None,
    ) -> Posted:
        if not lines or sum(lines.values()) != 0:
            raise ValueError(f"an entry must sum to zero: {dict(lines)}")
        if key in self.db.entries:
            return Posted(self.db.entries[key], created=False)
        entry = LedgerEntry(
            id=new_uuid(),
            idempotency_key=key,
            kind=str(kind),
            customer_id=customer_id,
            amount=sum(a for a in lines.values() if a > 0),
            reference=reference,
            details=dict(details or {}),
            created_at=utcnow(),
        )
        for account_id, delta in lines.items():
            if not account_id.startswith("system:"):
                if account_id not in self.db.accounts:
                    raise NotFound(f"No ledger account {account_id}.", code="account_not_found")
                self.db.accounts[account_id] += delta
        self.db.postings += [(entry.id, a, d) for a, d in lines.items() if d != 0]
        self.db.entries[key] = entry
        return Posted(entry, created=True)
