"""The customers area's wire shapes: `Customer` (and the admin's `CustomerAdmin`), the balance, the trail."""

from __future__ import annotations

from typing import Any

from functions.billing.customers.usecases import CustomerView, EventPage
from shared import wire
from shared.db.billing_models import Customer, CustomerEvent
from shared.ledger.book import Balance

ACTIVE_SUBSCRIPTIONS = ("active", "trialing", "past_due")


def customer(v: CustomerView) -> dict[str, Any]:
    c = v.customer
    out: dict[str, Any] = {
        "id": c.id,
        "email": c.email or "",
        "name": c.name or "",
        "is_admin": c.is_admin,
        "has_fund": v.balance.available > 0,
        "subscription_tier": c.subscription_tier,
        "createdAt": wire.time(c.created_at),
        "updatedAt": wire.time(c.updated_at),
    }
    if c.stripe_customer_id:
        out["stripe_id"] = c.stripe_customer_id
    if c.metronome_customer_id:
        out["metronome_id"] = c.metronome_customer_id
    return out


def customer_admin(v: CustomerView) -> dict[str, Any]:
    c: Customer = v.customer
    active = c.subscription_status in ACTIVE_SUBSCRIPTIONS
    return {
        "customer": {
            **customer(v),
            "cloud_subscription_is_active": active,
            "cloud_subscription_subscription_id": c.subscription_id,
            "cloud_subscription_renewal_date": wire.time(c.subscription_renewal_at) if active else None,
            "cloud_subscription_end_date": None if active else wire.time(c.subscription_renewal_at),
        }
    }


def customers_page(rows: list[CustomerView], total: int, page: int, limit: int) -> dict[str, Any]:
    return {
        "customers": [customer(v) for v in rows],
        "total": total,
        "page": page,
        "limit": limit,
        "totalPages": wire.total_pages(total, limit),
    }


def balance(b: Balance) -> dict[str, Any]:
    """Integer micro-USD. `amount_micros` and `effective_balance_micros` are what can be spent now (holds already
    taken out); `prepaid_balance_micros` adds back what calls in flight hold (`pending_charges_micros`)."""
    return {
        "amount_micros": b.available,
        "effective_balance_micros": b.available,
        "prepaid_balance_micros": b.available + b.held,
        "pending_charges_micros": b.held,
        "cloud_credit_balance_micros": 0,
        "currency": "usd",
    }


def event(e: CustomerEvent) -> dict[str, Any]:
    return {"event_id": e.id, "event_type": e.type, "params": e.details, "createdAt": wire.time(e.created_at)}


def events_page(p: EventPage) -> dict[str, Any]:
    return {
        "events": [event(e) for e in p.events],
        "total": p.total,
        "page": p.page,
        "limit": p.limit,
        "totalPages": wire.total_pages(p.total, p.limit),
    }


def features(conversion_rate: float) -> dict[str, Any]:
    return {"partner_node_conversion_rate": conversion_rate}
