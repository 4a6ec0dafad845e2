"""Stripe events that move credit: purchases grant it, refunds and disputes take it back, a won dispute gives it back.

What counts as bought credit:
- a Checkout Session in `payment` mode, paid, whose metadata says `purpose=credit` (the ones POST /customers/credit
  opens): credited `amount_total` (what was paid, in cents, as micro-USD) to the customer named by its
  `client_reference_id`; asynchronous payment methods complete unpaid and are credited when
  `checkout.session.async_payment_succeeded` arrives (same key: once);
- a paid invoice whose own or whose subscription's metadata says `purpose=credit` (an operator's one-off credit
  invoice): credited `amount_paid`. Subscription invoices buy a tier, not credit: they are noted in the trail only.

Refunds and disputes take back credit only of charges that bought it (the charge carries the PaymentIntent's metadata
`purpose=credit`, `customer_id`, `amount_micros`): each succeeded refund once (`refund:<refund id>`), whichever of
`charge.refunded`, `charge.refund.updated`, `refund.created` or `refund.updated` brings it; a dispute once
(`dispute:<id>`) as soon as any of its events arrives, unless it is an inquiry (`warning_*`, no money moved); a dispute
closed as won gives it back (`dispute_won:<id>`) after making sure it was taken (so a `closed` that overtakes its
`created` nets to zero). Available credit may go below zero: the gateway then refuses calls."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from shared.billing.ports import WebhookEvent
from shared.billing.uow import BillingUnitOfWork
from shared.errors import NotFound
from shared.ledger.accounts import EntryKind, micros_of_cents

log = logging.getLogger(__name__)

CREDIT = "credit"
CURRENCY = "usd"


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None and not isinstance(value, bool | float) else 0
    except (TypeError, ValueError):
        return 0


def _stripe_customer(uow: BillingUnitOfWork, obj: Mapping[str, Any]) -> str | None:
    """Our customer id for a Stripe object naming a Stripe customer (an id, or the expanded customer)."""
    ref = obj.get("customer")
    stripe_id = ref.get("id") if isinstance(ref, Mapping) else ref
    if not stripe_id:
        return None
    found = uow.customers.by_stripe_id(str(stripe_id))
    return found.id if found else None


# -- purchases ----------------------------------------------------------------------------------------------------
def _credit_purchase(
    uow: BillingUnitOfWork, customer_id: str | None, key: str, micros: int, reference: str, details: dict[str, Any]
) -> None:
    if not customer_id or uow.customers.get(customer_id) is None:
        # Money arrived for a customer we do not have: refuse the event (Stripe retries; the reconciliation reports).
        log.error("stripe payment %s names no known customer (%r)", reference, customer_id)
        raise NotFound(f"Payment {reference} names no known customer.", code="customer_not_found")
    posted = uow.ledger.grant(key, EntryKind.PURCHASE, customer_id, micros, reference=reference, details=details)
    if posted.created:
        uow.record(customer_id, "credit_purchased", amount_micros=micros, reference=reference)


def checkout_completed(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    session = event.object
    meta = _metadata(session)
    if session.get("mode") != "payment" or meta.get("purpose") != CREDIT or session.get("payment_status") != "paid":
        return
    cents = _int(session.get("amount_total"))
    if str(session.get("currency", CURRENCY)).lower() != CURRENCY or cents <= 0:
        log.error("credit checkout %s paid %r %s: not credited", session.get("id"), cents, session.get("currency"))
        return
    session_id = str(session["id"])
    customer_id = session.get("client_reference_id") or meta.get("customer_id")
    details = {"checkout_session": session_id, "payment_intent": _id_of(session.get("payment_intent"))}
    key = f"purchase:checkout_session:{session_id}"
    _credit_purchase(uow, customer_id, key, micros_of_cents(cents), session_id, details)


def _invoice_is_credit(invoice: Mapping[str, Any]) -> bool:
    """The invoice's own metadata, or its subscription's (`subscription_details` before Stripe API 2025-03-31,
    `parent.subscription_details` since), says `purpose=credit` (the same rule as the Stripe adapter's listing)."""
    parent = invoice.get("parent")
    holders = [
        invoice,
        invoice.get("subscription_details"),
        parent.get("subscription_details") if isinstance(parent, Mapping) else None,
    ]
    return any(isinstance(h, Mapping) and _metadata(h).get("purpose") == CREDIT for h in holders)


def invoice_paid(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    invoice = event.object
    cents = _int(invoice.get("amount_paid"))
    if invoice.get("status") != "paid" or cents <= 0:
        return
    invoice_id = str(invoice["id"])
    customer_id = _metadata(invoice).get("customer_id") or _stripe_customer(uow, invoice)
    if not _invoice_is_credit(invoice):
        # Noted once: Stripe sends both invoice.paid and invoice.payment_succeeded for one payment.
        if event.type == "invoice.paid" and customer_id and uow.customers.get(customer_id) is not None:
            uow.record(customer_id, "invoice_paid", invoice_id=invoice_id, amount_micros=micros_of_cents(cents))
        return
    key = f"purchase:invoice:{invoice_id}"
    _credit_purchase(uow, customer_id, key, micros_of_cents(cents), invoice_id, {"invoice": invoice_id})


# -- refunds and disputes -----------------------------------------------------------------------------------------
def _owner(uow: BillingUnitOfWork, charge: Mapping[str, Any]) -> str | None:
    """Our customer whose credit this charge bought, or None when it bought none (or is no customer's of ours)."""
    meta = _metadata(charge)
    if meta.get("purpose") != CREDIT:
        return None
    customer_id = meta.get("customer_id") or _stripe_customer(uow, charge)
    if not customer_id or uow.customers.get(str(customer_id)) is None:
        log.error("credit charge %s names no known customer (%r)", charge.get("id"), customer_id)
        return None
    return str(customer_id)


def _share(charge: Mapping[str, Any], cents: int) -> int:
    """The credit `cents` of this charge bought: in proportion when the credit differs from what was paid."""
    credit, paid = _int(_metadata(charge).get("amount_micros")), _int(charge.get("amount"))
    if credit > 0 and paid > 0:
        return max(1, cents * credit // paid)
    return micros_of_cents(cents)


def _take_back_refunds(uow: BillingUnitOfWork, charge: Mapping[str, Any], refunds: Iterable[Any]) -> None:
    owner = _owner(uow, charge)
    if owner is None:
        return
    charge_id = str(charge.get("id"))
    for refund in refunds:
        if not isinstance(refund, Mapping) or refund.get("status") != "succeeded" or _int(refund.get("amount")) <= 0:
            continue
        micros = _share(charge, _int(refund["amount"]))
        refund_id = str(refund["id"])
        posted = uow.ledger.take_back(
            f"refund:{refund_id}", EntryKind.REFUND, owner, micros, reference=charge_id, details={"refund": refund_id}
        )
        if posted.created:
            uow.record(owner, "credit_refunded", amount_micros=micros, refund_id=refund_id, charge_id=charge_id)


def charge_refunded(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    refunds = event.object.get("refunds")
    listed = refunds.get("data", []) if isinstance(refunds, Mapping) else []
    _take_back_refunds(uow, event.object, listed)


def refund_changed(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    charge = event.object.get("charge")
    if isinstance(charge, Mapping):  # expanded by the gateway
        _take_back_refunds(uow, charge, [event.object])


def dispute_changed(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    dispute, charge = event.object, event.object.get("charge")
    status = str(dispute.get("status", ""))
    if not isinstance(charge, Mapping) or status.startswith("warning_") or _int(dispute.get("amount")) <= 0:
        return
    owner = _owner(uow, charge)
    if owner is None:
        return
    dispute_id, charge_id = str(dispute["id"]), str(charge.get("id"))
    micros = _share(charge, _int(dispute["amount"]))
    details = {"dispute": dispute_id, "reason": str(dispute.get("reason", ""))}
    taken = uow.ledger.take_back(
        f"dispute:{dispute_id}", EntryKind.DISPUTE, owner, micros, reference=charge_id, details=details
    )
    if taken.created:
        uow.record(owner, "credit_disputed", amount_micros=micros, dispute_id=dispute_id, charge_id=charge_id)
    if event.type == "charge.dispute.closed" and status == "won":
        won = uow.ledger.grant(
            f"dispute_won:{dispute_id}", EntryKind.DISPUTE_WON, owner, micros, reference=charge_id, details=details
        )
        if won.created:
            uow.record(owner, "dispute_won", amount_micros=micros, dispute_id=dispute_id, charge_id=charge_id)


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None
