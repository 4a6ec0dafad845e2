"""Stripe's subscription events set the customer's cloud subscription: its id, tier, status and renewal time.

Stripe does not deliver events in order, so each carries its creation time and the customer row keeps the newest one
applied (`subscription_event_at`): an event older than that changes nothing (one of the same second is applied).
The end of a subscription other than the customer's current one changes nothing either (an old subscription ending
after a new one began). The tier comes from the subscription's metadata (`tier`, set by our checkout), else from its
price through SUBSCRIPTION_PRICES."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.billing.ports import WebhookEvent
from shared.billing.uow import BillingUnitOfWork
from shared.db.billing_models import Customer

log = logging.getLogger(__name__)

TIERS = ("FREE", "STANDARD", "CREATOR", "PRO", "FOUNDERS_EDITION")
_YEARLY = re.compile(r"[-_](yearly|annual)$", re.IGNORECASE)
DELETED = "customer.subscription.deleted"


def tier_of(subscription: Mapping[str, Any], prices: Mapping[str, str]) -> str | None:
    meta = subscription.get("metadata")
    named = meta.get("tier") if isinstance(meta, Mapping) else None
    if not named:
        by_price = {price: name for name, price in prices.items()}
        named = next((by_price[p] for p in _price_ids(subscription) if p in by_price), None)
    if not named:
        return None
    tier = _YEARLY.sub("", str(named).strip()).upper().replace("-", "_")
    return tier if tier in TIERS else None


def _price_ids(subscription: Mapping[str, Any]) -> list[str]:
    items = subscription.get("items")
    data = items.get("data", []) if isinstance(items, Mapping) else []
    found = []
    for item in data if isinstance(data, list) else []:
        for field in ("price", "plan"):
            ref = item.get(field) if isinstance(item, Mapping) else None
            ref_id = ref.get("id") if isinstance(ref, Mapping) else ref
            if ref_id:
                found.append(str(ref_id))
    return found


def _period_end(subscription: Mapping[str, Any]) -> datetime | None:
    """Since Stripe API 2025-03-31 the billing period lives on the items; before, on the subscription."""
    ends = [subscription.get("current_period_end")]
    items = subscription.get("items")
    for item in items.get("data", []) if isinstance(items, Mapping) else []:
        if isinstance(item, Mapping):
            ends.append(item.get("current_period_end"))
    stamps = [int(e) for e in ends if isinstance(e, int) and not isinstance(e, bool) and e > 0]
    return datetime.fromtimestamp(max(stamps), UTC) if stamps else None


def _customer(uow: BillingUnitOfWork, subscription: Mapping[str, Any]) -> Customer | None:
    meta = subscription.get("metadata")
    customer_id = meta.get("customer_id") if isinstance(meta, Mapping) else None
    if not customer_id:
        ref = subscription.get("customer")
        stripe_id = ref.get("id") if isinstance(ref, Mapping) else ref
        found = uow.customers.by_stripe_id(str(stripe_id)) if stripe_id else None
        customer_id = found.id if found else None
    return uow.customers.get(str(customer_id), lock=True) if customer_id else None


def subscription_changed(uow: BillingUnitOfWork, event: WebhookEvent, prices: Mapping[str, str]) -> None:
    subscription = event.object
    customer = _customer(uow, subscription)
    if customer is None:
        log.warning("subscription event %s names no customer of ours", event.id)
        return
    if customer.subscription_event_at is not None and event.created < customer.subscription_event_at:
        return  # an older event delivered late
    sub_id = str(subscription.get("id", ""))
    if event.type == DELETED and customer.subscription_id not in (None, sub_id):
        return  # the end of a subscription the customer has since replaced
    status = "canceled" if event.type == DELETED else str(subscription.get("status", ""))
    customer.subscription_id = sub_id
    customer.subscription_status = status[:32]
    customer.subscription_tier = None if event.type == DELETED else tier_of(subscription, prices)
    customer.subscription_renewal_at = _period_end(subscription)
    customer.subscription_event_at = event.created
    uow.record(
        customer.id,
        "subscription_changed",
        subscription_id=sub_id,
        status=customer.subscription_status,
        tier=customer.subscription_tier,
    )
