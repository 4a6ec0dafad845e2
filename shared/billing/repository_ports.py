"""What billing's use cases ask of the database and of the ledger, as Protocols: the SQL repositories
(shared/repositories/billing.py) and `shared.ledger.book.Ledger` implement them, and so do the in-memory fakes the
use-case tests run on (tests/fakes_billing.py). Only the methods use cases call are here.

The values the listings take and give (filters, usage buckets) live here too, free of SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.db.billing_models import ApiKey, CreditHold, Customer, CustomerEvent, LedgerEntry, UsageExport
from shared.ledger.accounts import EntryKind
from shared.ledger.audit import LedgerCheck
from shared.ledger.holds import Settled
from shared.ledger.postings import Balance, Posted

# A key's last-used time is written at most this often, so a busy key costs no write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# What `usage_buckets` groups by: a key of the capture entry's details, then the product, then this.
UNGROUPED = "other"


@dataclass(frozen=True)
class CustomerFilters:
    email: str = ""
    name: str = ""
    stripe_id: str = ""
    metronome_id: str = ""


@dataclass(frozen=True)
class UsageBucket:
    """Charges of one customer in one period (its start, UTC) and one group (a model, endpoint or product)."""

    period_start: datetime
    group_key: str
    amount: int


class CustomersRepository(Protocol):
    def get(self, customer_id: str, *, lock: bool = False) -> Customer | None: ...

    def create_if_missing(self, customer_id: str, values: Mapping[str, Any]) -> bool:
        """Insert the customer unless it exists (two first calls may race); True if this call created it."""
        ...

    def by_stripe_id(self, stripe_customer_id: str) -> Customer | None: ...

    def search(self, filters: CustomerFilters, page: int, limit: int) -> tuple[Sequence[Customer], int]: ...

    def is_registry_admin(self, customer_id: str) -> bool:
        """`users.is_admin` of the registry's user row: the other way (besides the Firebase claim) to be an admin."""
        ...


class ApiKeysRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def live_for(self, customer_id: str) -> Sequence[ApiKey]: ...

    def by_digest(self, key_digest: str) -> ApiKey | None: ...

    def usable(self, key_digest: str, now: datetime) -> ApiKey | None:
        """The key with this digest if it is neither deleted nor expired."""
        ...

    def touch(self, key_id: str, now: datetime) -> None: ...

    def delete(self, key: ApiKey, now: datetime) -> None:
        """Deleted keys stay as rows (the trail and the migration sync name them) but never authenticate again."""
        ...


class CustomerEventsRepository(Protocol):
    def add(self, customer_id: str, type_: str, details: Mapping[str, Any]) -> None: ...

    def page(
        self,
        customer_id: str,
        types: Sequence[str],
        window: tuple[datetime | None, datetime | None],
        page: int,
        limit: int,
    ) -> tuple[Sequence[CustomerEvent], int]: ...


class UsageExportsRepository(Protocol):
    def get(self, entry_id: str) -> UsageExport | None: ...

    def entry(self, entry_id: str) -> LedgerEntry | None: ...

    def unsent_before(self, before: datetime, limit: int) -> list[str]: ...

    def mark(self, entry_id: str, status: str, *, error: str = "") -> None: ...


class LedgerReportsRepository(Protocol):
    """Read-only questions about the ledger that reconciliation and the usage pages ask."""

    def purchases_for(self, keys: Sequence[str], references: Sequence[str]) -> list[LedgerEntry]:
        """Purchase entries posted under any of `keys` or naming any of `references` (Stripe object ids)."""
        ...

    def purchases_between(self, since: datetime, until: datetime) -> list[LedgerEntry]: ...

    def charged_by_customer(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        """customer id -> export status (`queued`, `sent`, `skipped`) -> micro-USD charged by captures made in the
        window."""
        ...

    def usage_buckets(
        self, customer_id: str, since: datetime, until: datetime, unit: str, group_by: str
    ) -> list[UsageBucket]:
        """The customer's charges summed per `unit` (hour, day, month; UTC) and per group."""
        ...


class CreditLedger(Protocol):
    """The credit ledger as the use cases move it (shared.ledger.book.Ledger; see shared/ledger/__init__.py)."""

    def open(self, customer_id: str) -> None:
        """The customer's accounts, created once (a no-op when they exist)."""
        ...

    def balance(self, customer_id: str) -> Balance: ...

    def balances(self, customer_ids: Sequence[str]) -> dict[str, Balance]:
        """Each customer's balance, in one query."""
        ...

    def audit(self) -> LedgerCheck:
        """Every balance recomputed from the postings, every entry's sum (shared.ledger.audit)."""
        ...

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
        ...

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
        ...

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
        credit cannot cover it (the caller's transaction must then roll back)."""
        ...

    def capture(self, hold_id: str, cost: int, *, details: Mapping[str, Any] | None = None) -> Settled:
        """Charge `cost`, at most the held amount (an excess is recorded in the entry, not charged), and give the
        rest back. A second capture returns the first; a hold released or expired is a Conflict."""
        ...

    def release(self, hold_id: str, *, expired: bool = False) -> Settled:
        """Give a hold back in full (a failed call, or with `expired` one the sweep found too old)."""
        ...

    def stale_holds(self, older_than: datetime, limit: int) -> list[str]: ...
