"""Stripe's and Metronome's webhooks, applied once each.

A Stripe event is verified (by the PaymentGateway, before anything is read from the database), then applied in one
transaction together with the row that says it was applied (`applied_events`, consumer `stripe`, keyed by the event
id): a replayed event finds that row and changes nothing; an event that fails half-way leaves nothing, not even the
row, so its redelivery applies it whole. Beneath that, every ledger entry has its own idempotency key shared by every
path that can post it (a purchase is `purchase:checkout_session:<id>` or `purchase:invoice:<id>` whether the webhook
or the reconciliation credits it; a refund `refund:<refund id>`; a dispute `dispute:<id>`), so distinct events about
the same payment, delivered in any order, move the ledger once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from functions.billing.webhooks.usecases import credit, subscriptions
from functions.billing.webhooks.usecases.metronome import MetronomeNotice, metronome_notice
from shared.billing.ports import PaymentGateway, WebhookEvent
from shared.billing.uow import BillingUnitOfWork

log = logging.getLogger(__name__)

STRIPE = "stripe"

Apply = Callable[[BillingUnitOfWork, WebhookEvent, Mapping[str, str]], None]

HANDLED: dict[str, Apply] = {
    "checkout.session.completed": credit.checkout_completed,
    "checkout.session.async_payment_succeeded": credit.checkout_completed,
    "invoice.paid": credit.invoice_paid,
    "invoice.payment_succeeded": credit.invoice_paid,
    "charge.refunded": credit.charge_refunded,
    "charge.refund.updated": credit.refund_changed,
    "refund.created": credit.refund_changed,
    "refund.updated": credit.refund_changed,
    "charge.dispute.created": credit.dispute_changed,
    "charge.dispute.updated": credit.dispute_changed,
    "charge.dispute.funds_withdrawn": credit.dispute_changed,
    "charge.dispute.closed": credit.dispute_changed,
    "customer.subscription.created": subscriptions.subscription_changed,
    "customer.subscription.updated": subscriptions.subscription_changed,
    "customer.subscription.deleted": subscriptions.subscription_changed,
}


@dataclass(frozen=True)
class Applied:
    event_id: str
    type: str
    handled: bool  # False: a type we do not act on (acknowledged all the same)
    replayed: bool = False  # True: applied before; nothing changed now


def apply_stripe(
    uow: BillingUnitOfWork, payments: PaymentGateway, payload: bytes, signature: str | None, prices: Mapping[str, str]
) -> Applied:
    """Verify and apply one Stripe webhook delivery. `prices`: SUBSCRIPTION_PRICES (tier -> Stripe price id)."""
    event = payments.webhook_event(payload, signature)
    apply = HANDLED.get(event.type)
    if apply is None:
        log.info("stripe event %s of type %s ignored", event.id, event.type)
        return Applied(event.id, event.type, handled=False)
    with uow:
        if not uow.applied_events.first_time(STRIPE, event.id):
            return Applied(event.id, event.type, handled=True, replayed=True)
        apply(uow, event, prices)
        uow.commit()
    return Applied(event.id, event.type, handled=True)


__all__ = ["HANDLED", "Applied", "MetronomeNotice", "apply_stripe", "metronome_notice"]
