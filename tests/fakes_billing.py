"""In-memory stand-ins for billing's database and ledger, for use-case tests that run in milliseconds.

`FakeBillingUnitOfWork` keeps the rows of a `BillingStore` in dictionaries and implements the Protocols of
shared/billing/repository_ports.py with the same meaning as the SQL ones; `FakeLedger` moves credit as
shared.ledger.book.Ledger does (balanced entries once per key, holds settled once). Leaving a unit of work without a
commit drops what it added (entries, holds, balances, trail, applied events, exports, new rows), as a rollback would;
attributes changed on a row loaded before stay changed (as in tests/fakes). No locks, no races, no SQL: the ledger's
concurrency and fault guarantees are proved on both databases (tests/billing/test_ledger*.py)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import TracebackType
from typing import Any

from shared.billing.ports import CheckoutSession, Payment, StripeObjectKind, TaskQueue, UsageRecord, WebhookEvent
from shared.billing.repository_ports import LAST_USED_RESOLUTION, CustomerFilters
from shared.billing.uow import enqueue_export
from shared.db.billing_models import ApiKey, CreditHold, Customer, CustomerEvent, LedgerEntry, UsageExport
from shared.db.types import new_uuid, utcnow
from shared.errors import Conflict, InvalidInput, NotFound, Unavailable
from shared.ledger.audit import LedgerCheck
from tests.fakes_ledger import FakeLedger, FakeLedgerReports, copy_row

log = logging.getLogger(__name__)


@dataclass
class BillingStore:
    """The rows every fake billing unit of work of one test shares."""

    customers: dict[str, Customer] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    trail: list[CustomerEvent] = field(default_factory=list)
    applied: set[tuple[str, str]] = field(default_factory=set)
    exports: dict[str, UsageExport] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)  # customer accounts' running balances
    entries: dict[str, LedgerEntry] = field(default_factory=dict)  # by idempotency key
    postings: list[tuple[str, str, int]] = field(default_factory=list)  # (entry id, account id, amount)
    holds: dict[str, CreditHold] = field(default_factory=dict)  # by id; a settled hold is a new object
    registry_admins: set[str] = field(default_factory=set)  # users.is_admin of the registry's rows

    def snapshot(self) -> dict[str, Any]:
        return {f.name: copy.copy(getattr(self, f.name)) for f in fields(self)}

    def restore(self, saved: dict[str, Any]) -> None:
        for name, value in saved.items():
            setattr(self, name, value)

    def trail_types(self, customer_id: str) -> list[str]:
        return [e.type for e in self.trail if e.customer_id == customer_id]

    def entry(self, entry_id: str) -> LedgerEntry | None:
        return next((e for e in self.entries.values() if e.id == entry_id), None)

    def audit(self) -> LedgerCheck:
        """What shared.ledger.audit.check computes, from the fake's postings."""
        per_entry: dict[str, int] = {}
        per_account: dict[str, int] = {}
        for entry_id, account_id, amount in self.postings:
            per_entry[entry_id] = per_entry.get(entry_id, 0) + amount
            per_account[account_id] = per_account.get(account_id, 0) + amount
        drifted = {
            a: (b, per_account.get(a, 0)) for a, b in sorted(self.accounts.items()) if b != per_account.get(a, 0)
        }
        unbalanced = [e for e, total in per_entry.items() if total]
        return LedgerCheck(sum(a for _, _, a in self.postings), unbalanced, drifted)


def new_customer(customer_id: str, **values: Any) -> Customer:
    now = utcnow()
    defaults: dict[str, Any] = {"email": None, "name": None, "is_admin": False, "signup_source": None}
    return Customer(id=customer_id, created_at=now, updated_at=now, **{**defaults, **values})


class _Repo:
    def __init__(self, store: BillingStore) -> None:
        self.db = store


class FakeCustomers(_Repo):
    def get(self, customer_id: str, *, lock: bool = False) -> Customer | None:
        return self.db.customers.get(customer_id)

    def create_if_missing(self, customer_id: str, values: Mapping[str, Any]) -> bool:
        if customer_id in self.db.customers:
            return False
        self.db.customers[customer_id] = new_customer(customer_id, **values)
        return True

    def by_stripe_id(self, stripe_customer_id: str) -> Customer | None:
        return next((c for c in self.db.customers.values() if c.stripe_customer_id == stripe_customer_id), None)

    def search(self, filters: CustomerFilters, page: int, limit: int) -> tuple[Sequence[Customer], int]:
        wanted = {
            "email": filters.email,
            "name": filters.name,
            "stripe_customer_id": filters.stripe_id,
            "metronome_customer_id": filters.metronome_id,
        }

        def matches(c: Customer) -> bool:
            return all((v.lower() in (getattr(c, k) or "").lower()) if v else True for k, v in wanted.items())

        found = sorted((c for c in self.db.customers.values() if matches(c)), key=lambda c: (c.created_at, c.id))
        return found[(page - 1) * limit : page * limit], len(found)

    def is_registry_admin(self, customer_id: str) -> bool:
        return customer_id in self.db.registry_admins


class FakeApiKeys(_Repo):
    def add(self, key: ApiKey) -> None:
        if any(k.digest == key.digest for k in self.db.keys.values()):
            raise Conflict("The change conflicts with existing data.", code="conflict")
        key.id = key.id or new_uuid()
        key.description = key.description or ""
        key.created_at = key.created_at or utcnow()
        self.db.keys[key.id] = key

    def get(self, key_id: str) -> ApiKey | None:
        return self.db.keys.get(key_id)

    def live_for(self, customer_id: str) -> Sequence[ApiKey]:
        live = [k for k in self.db.keys.values() if k.customer_id == customer_id and k.deleted_at is None]
        live.sort(key=lambda k: k.id)
        return sorted(live, key=lambda k: k.created_at, reverse=True)

    def by_digest(self, key_digest: str) -> ApiKey | None:
        return next((k for k in self.db.keys.values() if k.digest == key_digest), None)

    def usable(self, key_digest: str, now: datetime) -> ApiKey | None:
        key = self.by_digest(key_digest)
        if key is None or key.deleted_at is not None or (key.expires_at is not None and key.expires_at <= now):
            return None
        return key

    def touch(self, key_id: str, now: datetime) -> None:
        key = self.db.keys.get(key_id)
        if key is not None and (key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION):
            key.last_used_at = now

    def delete(self, key: ApiKey, now: datetime) -> None:
        key.deleted_at = now


class FakeCustomerEvents(_Repo):
    def add(self, customer_id: str, type_: str, details: Mapping[str, Any]) -> None:
        event = CustomerEvent(id=new_uuid(), customer_id=customer_id, type=type_, details=dict(details))
        event.created_at = utcnow()
        self.db.trail.append(event)

    def page(
        self,
        customer_id: str,
        types: Sequence[str],
        window: tuple[datetime | None, datetime | None],
        page: int,
        limit: int,
    ) -> tuple[Sequence[CustomerEvent], int]:
        start, end = window
        found = [
            e
            for e in self.db.trail
            if e.customer_id == customer_id
            and (not types or e.type in types)
            and (start is None or e.created_at >= start)
            and (end is None or e.created_at < end)
        ]
        found.sort(key=lambda e: e.id)
        found.sort(key=lambda e: e.created_at, reverse=True)
        return found[(page - 1) * limit : page * limit], len(found)


class FakeAppliedEvents(_Repo):
    def first_time(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.db.applied:
            return False
        self.db.applied.add((consumer, event_id))
        return True


class FakeUsageExports(_Repo):
    def get(self, entry_id: str) -> UsageExport | None:
        return self.db.exports.get(entry_id)

    def entry(self, entry_id: str) -> LedgerEntry | None:
        return self.db.entry(entry_id)

    def unsent_before(self, before: datetime, limit: int) -> list[str]:
        rows = sorted(self.db.exports.values(), key=lambda r: r.created_at)
        return [r.entry_id for r in rows if r.status == "queued" and r.created_at < before][:limit]

    def mark(self, entry_id: str, status: str, *, error: str = "") -> None:
        row = self.db.exports.get(entry_id)
        if row is None:
            return
        changed = copy_row(UsageExport, row, status=status, attempts=row.attempts + 1, last_error=error[:2000])
        if status == "sent":
            changed.sent_at = utcnow()
        self.db.exports[entry_id] = changed  # an UPDATE: rows read before keep what they read


class FakeBillingUnitOfWork:
    """A billing unit of work over a BillingStore. Captures reach `tasks` (as usage-export tasks) only on commit;
    leaving the block without a commit restores the store as the last commit left it (see the module's docstring), so
    two units of work of one store must not be open at once (no use case nests them)."""

    def __init__(self, store: BillingStore, tasks: TaskQueue | None = None) -> None:
        self.store = store
        self._tasks = tasks
        self.customers = FakeCustomers(store)
        self.api_keys = FakeApiKeys(store)
        self.ledger = FakeLedger(store)
        self.trail = FakeCustomerEvents(store)
        self.exports = FakeUsageExports(store)
        self.reports = FakeLedgerReports(store)
        self.applied_events = FakeAppliedEvents(store)
        self._saved = store.snapshot()

    def __enter__(self) -> FakeBillingUnitOfWork:
        self._saved, self.ledger.exports = self.store.snapshot(), []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.store.restore(self._saved)
        self.ledger.exports = []

    def record(self, customer_id: str, type_: str, **details: Any) -> None:
        self.trail.add(customer_id, type_, details)

    def flush(self) -> None:
        pass  # the fakes write at once; unique keys are checked as rows are added

    def commit(self) -> None:
        self._saved = self.store.snapshot()
        exports, self.ledger.exports = self.ledger.exports, []
        for entry_id in exports:
            try:
                if self._tasks is not None:
                    enqueue_export(self._tasks, entry_id)
            except Exception:
                log.exception("could not queue the usage export of %s; the sweep will", entry_id)


# -- the outside services -------------------------------------------------------------------------------------------
SIGNED = "t=1,v1=fake"  # the only Stripe-Signature FakePayments accepts


class FakePayments:
    """The PaymentGateway port in memory: a Stripe customer made once per customer, a Checkout Session once per
    idempotency key, webhook deliveries signed with SIGNED, the paid payments reconciliation lists, and the coupons
    and promotion codes admins manage (newest first). `down` makes every call Unavailable, as the adapter's are."""

    secret = SIGNED

    def __init__(self, paid: Sequence[Payment] = ()) -> None:
        self.paid = list(paid)
        self.down = False
        self.stripe_ids: dict[str, str] = {}  # our customer id -> Stripe's
        self.sessions: dict[str, CheckoutSession] = {}  # idempotency key -> session
        self.checkouts: list[dict[str, Any]] = []  # every checkout asked for, with its arguments
        self.objects: dict[str, list[dict[str, Any]]] = {"coupon": [], "promotion_code": []}

    def _up(self) -> None:
        if self.down:
            raise Unavailable("Stripe cannot be reached.", code="stripe_unavailable")

    def ensure_customer(self, customer_id: str, email: str | None, name: str | None) -> str:
        self._up()
        return self.stripe_ids.setdefault(customer_id, f"cus_{len(self.stripe_ids) + 1}")

    def _checkout(self, key: str, **asked: Any) -> CheckoutSession:
        self._up()
        self.checkouts.append({"idempotency_key": key, **asked})
        session_id = f"cs_{len(self.sessions) + 1}"
        return self.sessions.setdefault(key, CheckoutSession(session_id, f"https://checkout.stripe.test/{session_id}"))

    def credit_checkout(
        self, *, stripe_customer_id: str, customer_id: str, amount_micros: int, idempotency_key: str
    ) -> CheckoutSession:
        return self._checkout(idempotency_key, stripe_customer_id=stripe_customer_id, amount_micros=amount_micros)

    def billing_portal(self, stripe_customer_id: str) -> str:
        self._up()
        return f"https://billing.stripe.test/p/session/{stripe_customer_id}"

    def subscription_checkout(
        self, *, stripe_customer_id: str, customer_id: str, price_id: str, tier: str, idempotency_key: str
    ) -> CheckoutSession:
        return self._checkout(idempotency_key, stripe_customer_id=stripe_customer_id, price_id=price_id, tier=tier)

    def webhook_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        if signature != self.secret:
            raise InvalidInput("The Stripe-Signature does not verify.", code="invalid_signature")
        data = json.loads(payload)
        inner = data["data"]
        return WebhookEvent(
            data["id"], data["type"], data["created"], inner["object"], inner.get("previous_attributes", {})
        )

    def paid_payments(self, since: datetime, until: datetime) -> Iterator[Payment]:
        self._up()
        return iter([p for p in self.paid if since.timestamp() <= p.created < until.timestamp()])

    def list_objects(self, kind: StripeObjectKind, limit: int, starting_after: str | None) -> list[dict[str, Any]]:
        self._up()
        listed = self.objects[kind]
        start = next((i + 1 for i, o in enumerate(listed) if o["id"] == starting_after), 0) if starting_after else 0
        return [dict(o) for o in listed[start : start + limit]]

    def create_object(self, kind: StripeObjectKind, params: Mapping[str, Any]) -> dict[str, Any]:
        self._up()
        defaults = {"active": True} if kind == "promotion_code" else {}  # as Stripe makes them
        made = {"id": f"{kind}_{new_uuid()[:8]}", "object": kind, **defaults, **params}
        self.objects[kind].insert(0, made)
        return dict(made)

    def get_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        self._up()
        found = next((o for o in self.objects[kind] if o["id"] == object_id), None)
        if found is None:
            raise NotFound(f"No such {kind}: {object_id}", code=f"{kind}_not_found")
        return found

    def update_object(self, kind: StripeObjectKind, object_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        found = self.get_object(kind, object_id)
        found.update(params)
        return dict(found)

    def delete_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        self.objects[kind].remove(self.get_object(kind, object_id))
        return {"id": object_id, "object": kind, "deleted": True}


def stripe_event(
    type_: str, obj: Mapping[str, Any], *, event_id: str | None = None, created: int = 1_700_000_000
) -> bytes:
    """A webhook delivery's body, as FakePayments.webhook_event reads it."""
    body = {"id": event_id or f"evt_{new_uuid()[:12]}", "type": type_, "created": created, "data": {"object": obj}}
    return json.dumps(body).encode()


class FakeMeter:
    """The UsageMeter port in memory: what was sent, the totals it answers, the customers it knows. `failing` makes
    `send` and `totals` raise it."""

    def __init__(self, *, configured: bool = True, known: Sequence[str] = ()) -> None:
        self.configured = configured
        self.known = set(known)
        self.sent: list[UsageRecord] = []
        self.metered: dict[str, int] = {}
        self.archived: list[str] = []
        self.failing: Exception | None = None

    def send(self, records: Sequence[UsageRecord]) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.extend(records)

    def totals(self, since: datetime, until: datetime) -> Mapping[str, int]:
        if self.failing is not None:
            raise self.failing
        return dict(self.metered)

    def dashboard_url(
        self, customer_id: str, *, dashboard: str = "usage", colors: Mapping[str, str] | None = None
    ) -> str | None:
        return f"https://metronome.test/{dashboard}/{customer_id}" if customer_id in self.known else None

    def archive_customer(self, customer_id: str) -> bool:
        if customer_id not in self.known:
            return False
        self.archived.append(customer_id)
        return True


class FakeTasks:
    """The TaskQueue port: tasks recorded, one per key (as Cloud Tasks names them); `failing` refuses every enqueue."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, dict[str, Any], str]] = []  # (kind, payload, key)
        self.failing = False

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, key: str, delay_seconds: float = 0) -> None:
        if self.failing:
            raise Unavailable("The task queue cannot be reached.", code="tasks_unavailable")
        if key not in self.keys():
            self.queued.append((kind, dict(payload), key))

    def keys(self) -> list[str]:
        return [key for _, _, key in self.queued]
