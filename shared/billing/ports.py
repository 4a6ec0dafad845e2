"""The outside services the money side talks to, each named for its role. Adapters live in shared/adapters and
import their vendor's SDK lazily; tests pass fakes through `bootstrap(...)`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class WebhookEvent:
    """A Stripe event whose signature was checked: its id (applied once), type, creation time (epoch seconds) and
    the object it is about (`data.object`, as plain JSON)."""

    id: str
    type: str
    created: int
    object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Payment:
    """Money Stripe says it received: a paid Checkout Session or a paid invoice, as reconciliation lists them."""

    kind: Literal["checkout_session", "invoice"]
    id: str
    customer_id: str | None  # ours (client_reference_id or metadata), when Stripe knows it
    amount_micros: int
    created: int


# The admin objects Stripe models that we expose as they are (coupons, promotion codes).
StripeObjectKind = Literal["coupon", "promotion_code"]


class PaymentGateway(Protocol):
    """Stripe. Methods raise `shared.errors.Unavailable` when Stripe is not configured or cannot be reached, and
    `InvalidInput` for what Stripe refuses as invalid."""

    def ensure_customer(self, customer_id: str, email: str | None, name: str | None) -> str:
        """The Stripe customer id for our customer, created once (idempotent on our id)."""
        ...

    def credit_checkout(
        self, *, stripe_customer_id: str, customer_id: str, amount_micros: int, idempotency_key: str
    ) -> CheckoutSession:
        """A Checkout Session that buys `amount_micros` of credit (whole cents)."""
        ...

    def billing_portal(self, stripe_customer_id: str) -> str:
        """The URL of a billing portal session."""
        ...

    def subscription_checkout(
        self, *, stripe_customer_id: str, customer_id: str, price_id: str, tier: str, idempotency_key: str
    ) -> CheckoutSession: ...

    def webhook_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """The event in `payload`, after checking `Stripe-Signature` against the signing secret and its tolerance;
        `InvalidInput` (code `invalid_signature`) when forged, stale or malformed."""
        ...

    def paid_payments(self, since: datetime, until: datetime) -> Iterator[Payment]: ...

    def list_objects(self, kind: StripeObjectKind, limit: int, starting_after: str | None) -> list[dict[str, Any]]: ...

    def create_object(self, kind: StripeObjectKind, params: Mapping[str, Any]) -> dict[str, Any]: ...

    def get_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        """NotFound when Stripe has no such object."""
        ...

    def update_object(self, kind: StripeObjectKind, object_id: str, params: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class UsageRecord:
    """One captured charge as Metronome counts it: `transaction_id` is the ledger entry id, so a resend is one."""

    transaction_id: str
    customer_id: str
    timestamp: datetime
    amount_micros: int
    properties: Mapping[str, str] = field(default_factory=dict)


class UsageMeter(Protocol):
    """Metronome. `configured` False: nothing is sent, the ledger alone meters."""

    configured: bool

    def send(self, records: Sequence[UsageRecord]) -> None:
        """Ingest the records; raise on failure (the task is retried with backoff)."""
        ...

    def totals(self, since: datetime, until: datetime) -> Mapping[str, int]:
        """Micro-USD metered per customer id over the window (UTC midnights, at least a day apart), as Metronome
        counts it."""
        ...

    def dashboard_url(
        self, customer_id: str, *, dashboard: str = "usage", colors: Mapping[str, str] | None = None
    ) -> str | None:
        """An embeddable dashboard of the customer's usage (`dashboard`: usage, invoices, credits,
        commits_and_credits; `colors`: name -> #RRGGBB overrides); None where the meter has none for them."""
        ...

    def archive_customer(self, customer_id: str) -> bool:
        """Archive the customer's record in the meter (its history stays for audit); False when it has none."""
        ...


class TaskQueue(Protocol):
    """Cloud Tasks in the cloud, in-process locally. A task of one `key` is queued once (Cloud Tasks' task name)."""

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, key: str, delay_seconds: float = 0) -> None: ...
