"""Stand-ins for services that are not configured here: they say so clearly rather than fail obscurely. Without
STRIPE_SECRET_KEY every payment operation answers 503 with the reason; without METRONOME_API_TOKEN nothing is exported
and the ledger alone meters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

from shared.billing.ports import CheckoutSession, Payment, StripeObjectKind, UsageRecord, WebhookEvent
from shared.errors import Unavailable


def _no_stripe() -> NoReturn:
    raise Unavailable(
        "Payments are not configured on this server (STRIPE_SECRET_KEY is unset). Locally, credit a customer with "
        "`python -m local grant --customer UID --usd 10`.",
        code="payments_not_configured",
        retry_after=3600,
    )


class PaymentsNotConfigured:
    def ensure_customer(self, customer_id: str, email: str | None, name: str | None) -> str:
        _no_stripe()

    def credit_checkout(
        self, *, stripe_customer_id: str, customer_id: str, amount_micros: int, idempotency_key: str
    ) -> CheckoutSession:
        _no_stripe()

    def billing_portal(self, stripe_customer_id: str) -> str:
        _no_stripe()

    def subscription_checkout(
        self, *, stripe_customer_id: str, customer_id: str, price_id: str, tier: str, idempotency_key: str
    ) -> CheckoutSession:
        _no_stripe()

    def webhook_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        _no_stripe()

    def paid_payments(self, since: datetime, until: datetime) -> Iterator[Payment]:
        return iter(())

    def list_objects(self, kind: StripeObjectKind, limit: int, starting_after: str | None) -> list[dict[str, Any]]:
        _no_stripe()

    def create_object(self, kind: StripeObjectKind, params: Mapping[str, Any]) -> dict[str, Any]:
        _no_stripe()

    def get_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        _no_stripe()

    def update_object(self, kind: StripeObjectKind, object_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        _no_stripe()

    def delete_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        _no_stripe()


class NoUsageMeter:
    configured = False

    def send(self, records: Sequence[UsageRecord]) -> None:
        return None

    def totals(self, since: datetime, until: datetime) -> Mapping[str, int]:
        return {}

    def dashboard_url(
        self, customer_id: str, *, dashboard: str = "usage", colors: Mapping[str, str] | None = None
    ) -> str | None:
        return None

    def archive_customer(self, customer_id: str) -> bool:
        return False
