"""The PaymentGateway port on Stripe, through the official `stripe` SDK (imported on first use, never at import time).

What we ask of Stripe, and how its answers map onto ours:
- a credit purchase is a Checkout Session in `payment` mode for whole cents of USD; our customer id rides along as
  `client_reference_id` and, with the micro-USD amount and `purpose=credit`, as metadata of the session and of its
  PaymentIntent (Stripe copies a PaymentIntent's metadata onto its charge, which is how a refund or a dispute of
  that charge is traced back to the credit it bought). Promotion codes are not offered on credit: credit is cash;
- a subscription is a Checkout Session in `subscription` mode for the tier's price, with the tier and our customer
  id in the subscription's metadata; promotion codes are offered there;
- webhooks are verified by the SDK (`StripeClient.construct_event`: the `Stripe-Signature` HMAC and its tolerance).
  Dispute and refund events name their charge by id only; the adapter expands it (as Stripe's `expand` would), and
  lists a refunded charge's refunds where the event does not carry them, so the use cases see whose payment it was;
- coupons and promotion codes are Stripe's own objects, returned as plain dicts. Stripe cannot delete a promotion
  code: deleting one deactivates it.

Every SDK failure becomes one of our errors: a request Stripe refuses is `InvalidInput` (`NotFound` when the object
is missing), anything else (authentication, connection, rate limit, Stripe's own failure) is `Unavailable`. Messages
and logs name the failure's class and Stripe's request id, never the secret key or request headers."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.billing.ports import CheckoutSession, Payment, StripeObjectKind, WebhookEvent
from shared.errors import InvalidInput, NotFound, Unavailable
from shared.ledger.accounts import cents_of_micros, micros_of_cents

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

CURRENCY = "usd"
CREDIT = "credit"
SUBSCRIPTION = "subscription"
PAGE = 100  # Stripe's largest page
# Events whose object names its charge by id: the adapter fetches the charge.
_CHARGE_EXPANDED = ("charge.dispute.", "refund.", "charge.refund.")


class StripePayments:
    def __init__(
        self,
        secret_key: str,
        *,
        webhook_secret: str | None,
        tolerance_seconds: int = 300,
        api_base: str | None = None,
        success_url: str,
        cancel_url: str,
        portal_return_url: str,
        max_network_retries: int = 2,
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        import stripe

        addresses: Any = {"api": api_base.rstrip("/")} if api_base else None
        # Any: our params are plain dicts, which the SDK's TypedDict signatures do not take.
        self._client: Any = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=max_network_retries
        )
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds
        self._success_url = success_url
        self._cancel_url = cancel_url
        self._portal_return_url = portal_return_url

    @classmethod
    def from_settings(cls, s: Settings) -> StripePayments:
        if not s.stripe_secret_key:
            raise ValueError("STRIPE_SECRET_KEY is unset")
        return cls(
            s.stripe_secret_key,
            webhook_secret=s.stripe_webhook_secret,
            tolerance_seconds=s.stripe_webhook_tolerance_seconds,
            api_base=s.stripe_api_base,
            success_url=s.checkout_success_url,
            cancel_url=s.checkout_cancel_url,
            portal_return_url=s.billing_portal_return_url,
        )

    def __repr__(self) -> str:  # the client holds the key: never print it
        return "StripePayments()"

    # -- customers and checkout ---------------------------------------------------------------------------------------
    def ensure_customer(self, customer_id: str, email: str | None, name: str | None) -> str:
        params: dict[str, Any] = {"metadata": {"customer_id": customer_id}}
        if email:
            params["email"] = email
        if name:
            params["name"] = name
        with _translated("customer"):
            created = self._client.v1.customers.create(
                params=params, options={"idempotency_key": f"customer-{customer_id}"}
            )
        return str(created.id)

    def credit_checkout(
        self, *, stripe_customer_id: str, customer_id: str, amount_micros: int, idempotency_key: str
    ) -> CheckoutSession:
        cents = cents_of_micros(amount_micros)
        metadata = {"customer_id": customer_id, "amount_micros": str(amount_micros), "purpose": CREDIT}
        params: dict[str, Any] = {
            "mode": "payment",
            "customer": stripe_customer_id,
            "client_reference_id": customer_id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": CURRENCY,
                        "unit_amount": cents,
                        "product_data": {"name": "Comfy API credit"},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": self._success_url,
            "cancel_url": self._cancel_url,
        }
        return self._checkout(params, idempotency_key)

    def subscription_checkout(
        self, *, stripe_customer_id: str, customer_id: str, price_id: str, tier: str, idempotency_key: str
    ) -> CheckoutSession:
        metadata = {"customer_id": customer_id, "tier": tier, "purpose": SUBSCRIPTION}
        params: dict[str, Any] = {
            "mode": "subscription",
            "customer": stripe_customer_id,
            "client_reference_id": customer_id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "allow_promotion_codes": True,
            "success_url": self._success_url,
            "cancel_url": self._cancel_url,
        }
        return self._checkout(params, idempotency_key)

    def _checkout(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        with _translated("checkout session"):
            session = self._client.v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        if not session.url:
            raise Unavailable("Stripe returned a checkout session without a URL.", code="stripe_unavailable")
        return CheckoutSession(id=str(session.id), url=str(session.url))

    def billing_portal(self, stripe_customer_id: str) -> str:
        with _translated("billing portal session"):
            portal = self._client.v1.billing_portal.sessions.create(
                params={"customer": stripe_customer_id, "return_url": self._portal_return_url}
            )
        return str(portal.url)

    # -- webhooks -----------------------------------------------------------------------------------------------------
    def webhook_event(self, payload: bytes, signature: str | None) -> WebhookEvent:
        if not self._webhook_secret:
            raise Unavailable(
                "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET is unset).",
                code="webhooks_not_configured",
                retry_after=3600,
            )
        import stripe

        try:
            event = self._client.construct_event(payload, signature, self._webhook_secret, self._tolerance)
            data = event.to_dict()
            body = data["data"]
            found = WebhookEvent(
                id=str(data["id"]),
                type=str(data["type"]),
                created=int(data["created"]),
                object=dict(body["object"]),
                previous_attributes=dict(body.get("previous_attributes") or {}),
            )
        except (stripe.SignatureVerificationError, ValueError, TypeError, KeyError, AttributeError):
            raise InvalidInput(
                "The Stripe-Signature header does not verify this payload (forged, stale or malformed).",
                code="invalid_signature",
            ) from None
        return self._expanded(found)

    def _expanded(self, event: WebhookEvent) -> WebhookEvent:
        obj = dict(event.object)
        if event.type.startswith(_CHARGE_EXPANDED) and isinstance(obj.get("charge"), str):
            with _translated("charge"):
                obj["charge"] = self._client.v1.charges.retrieve(obj["charge"]).to_dict()
        if event.type == "charge.refunded" and _refunds_missing(obj):
            with _translated("refund list"):
                refunds = self._client.v1.refunds.list(params={"charge": str(obj["id"]), "limit": PAGE})
                obj["refunds"] = {"object": "list", "data": [r.to_dict() for r in refunds.auto_paging_iter()]}
        return WebhookEvent(event.id, event.type, event.created, obj, event.previous_attributes)

    # -- reconciliation -----------------------------------------------------------------------------------------------
    def paid_payments(self, since: datetime, until: datetime) -> Iterator[Payment]:
        """Paid credit Checkout Sessions, then paid credit invoices, created in [since, until). Subscription invoices
        buy a tier, not credit, and are not listed (the webhooks credit nothing for them either)."""
        # Stripe's `created` is whole seconds: a payment made in the window's last, partial second has the second
        # `until` falls in, so the upper bound rounds up (a payment a fraction of a second late is harmless here).
        window = {"gte": math.floor(since.timestamp()), "lt": math.ceil(until.timestamp())}
        with _translated("checkout session list"):
            sessions = self._client.v1.checkout.sessions.list(params={"created": window, "limit": PAGE})
            for s in sessions.auto_paging_iter():
                session = s.to_dict()
                if session.get("mode") == "payment" and session.get("payment_status") == "paid" and _is_credit(session):
                    yield _payment("checkout_session", session, session.get("amount_total"))
        with _translated("invoice list"):
            invoices = self._client.v1.invoices.list(params={"created": window, "status": "paid", "limit": PAGE})
            for i in invoices.auto_paging_iter():
                invoice = i.to_dict()
                if invoice_is_credit(invoice):
                    yield _payment("invoice", invoice, invoice.get("amount_paid"))

    # -- coupons and promotion codes ----------------------------------------------------------------------------------
    def _service(self, kind: StripeObjectKind) -> Any:
        return self._client.v1.coupons if kind == "coupon" else self._client.v1.promotion_codes

    def list_objects(self, kind: StripeObjectKind, limit: int, starting_after: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if starting_after:
            params["starting_after"] = starting_after
        with _translated(f"{kind} list"):
            page = self._service(kind).list(params=params)
        return [item.to_dict() for item in page.data]

    def create_object(self, kind: StripeObjectKind, params: Mapping[str, Any]) -> dict[str, Any]:
        with _translated(kind):
            created: dict[str, Any] = self._service(kind).create(params=dict(params)).to_dict()
        return created

    def get_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        with _translated(kind):
            found: dict[str, Any] = self._service(kind).retrieve(object_id).to_dict()
        return found

    def update_object(self, kind: StripeObjectKind, object_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        with _translated(kind):
            updated: dict[str, Any] = self._service(kind).update(object_id, params=dict(params)).to_dict()
        return updated

    def delete_object(self, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
        if kind == "promotion_code":
            return self.update_object(kind, object_id, {"active": False})
        with _translated(kind):
            deleted: dict[str, Any] = self._service(kind).delete(object_id).to_dict()
        return deleted


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _is_credit(obj: Mapping[str, Any]) -> bool:
    return _metadata(obj).get("purpose") == CREDIT


def invoice_is_credit(invoice: Mapping[str, Any]) -> bool:
    """An invoice sells credit when it, or the subscription it bills, says `purpose=credit` in its metadata (where
    the subscription's metadata is: `subscription_details` before API 2025-03-31, `parent.subscription_details`
    since)."""
    if _is_credit(invoice):
        return True
    parent = invoice.get("parent")
    nested = parent.get("subscription_details") if isinstance(parent, Mapping) else None
    for details in (invoice.get("subscription_details"), nested):
        if isinstance(details, Mapping) and _is_credit(details):
            return True
    return False


def _refunds_missing(charge: Mapping[str, Any]) -> bool:
    refunds = charge.get("refunds")
    return not isinstance(refunds, Mapping) or bool(refunds.get("has_more")) or "data" not in refunds


def _payment(kind: Any, obj: Mapping[str, Any], cents: Any) -> Payment:
    meta = _metadata(obj)
    customer_id = obj.get("client_reference_id") or meta.get("customer_id")
    return Payment(
        kind=kind,
        id=str(obj["id"]),
        customer_id=str(customer_id) if customer_id else None,
        amount_micros=micros_of_cents(int(cents or 0)),
        created=int(obj.get("created") or 0),
    )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Stripe's errors as ours; the message names the failure, never the key or the request's headers."""
    import stripe

    try:
        yield
    except stripe.IdempotencyError:
        raise InvalidInput(
            "This Idempotency-Key was used before with a different request; use a new key.",
            code="idempotency_key_reused",
        ) from None
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" or exc.http_status == 404:
            raise NotFound(f"Stripe has no such {what}.", code="not_found") from None
        detail = exc.user_message or "invalid request"
        raise InvalidInput(f"Stripe refused the {what}: {detail}", code="stripe_invalid_request") from None
    except stripe.StripeError as exc:
        kind = type(exc).__name__
        log.warning("stripe %s failed: %s (status %s, request %s)", what, kind, exc.http_status, exc.request_id)
        raise Unavailable(
            f"Stripe could not be reached for the {what} ({kind}); try again shortly.", code="stripe_unavailable"
        ) from None
