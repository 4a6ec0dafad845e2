"""Paying Stripe: buying credit through a Checkout Session, the billing portal, subscription checkout and status, an
admin's unlinking of a customer's Stripe record, and the coupon and promotion-code admin operations.

No transaction is held open while Stripe is called: the customer is read, Stripe is asked, and what Stripe gave back
(the Stripe customer id) is written in a second, short transaction."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.billing.common.customers import require_customer
from shared.billing.callers import Caller
from shared.billing.ports import CheckoutSession, PaymentGateway, StripeObjectKind
from shared.billing.uow import BillingUnitOfWork
from shared.db.billing_models import Customer
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.ledger.accounts import MICROS_PER_USD

MICROS_PER_CENT = 10_000
ACTIVE_SUBSCRIPTIONS = ("active", "trialing", "past_due")
TIERS = ("FREE", "STANDARD", "CREATOR", "PRO", "FOUNDERS_EDITION")
YEARLY = re.compile(r"[-_](yearly|annual)$", re.IGNORECASE)
DAY_SECONDS = 86_400
MAX_FILTER_PAGES = 10  # a filtered promo-code listing reads at most this many pages of Stripe's


@dataclass(frozen=True)
class CreditBounds:
    minimum: int  # micro-USD
    maximum: int


@dataclass(frozen=True)
class SubscriptionStatus:
    customer: Customer
    has_fund: bool


@dataclass(frozen=True)
class ObjectPage:
    items: list[dict[str, Any]]
    has_more: bool


def stripe_customer(uow: BillingUnitOfWork, payments: PaymentGateway, customer_id: str) -> str:
    """The customer's Stripe customer id, created in Stripe (idempotently on our id) and stored the first time."""
    with uow:
        customer = require_customer(uow, customer_id)
        if customer.stripe_customer_id:
            return customer.stripe_customer_id
        email, name = customer.email, customer.name
    stripe_id = payments.ensure_customer(customer_id, email, name)
    with uow:
        customer = require_customer(uow, customer_id, lock=True)
        if customer.stripe_customer_id is None:
            customer.stripe_customer_id = stripe_id
            uow.record(customer_id, "stripe_customer_linked", stripe_customer_id=stripe_id)
            uow.commit()
        return customer.stripe_customer_id


# -- credit -------------------------------------------------------------------------------------------------------
def check_amount(amount_micros: int, currency: str, bounds: CreditBounds) -> int:
    if currency.lower() != "usd":
        raise InvalidInput(f"Credit is sold in usd only, not {currency[:8]!r}.", code="unsupported_currency")
    if not bounds.minimum <= amount_micros <= bounds.maximum:
        raise InvalidInput(
            f"amount_micros must be between {bounds.minimum} and {bounds.maximum} "
            f"(${bounds.minimum / MICROS_PER_USD:,.2f} to ${bounds.maximum / MICROS_PER_USD:,.2f}), "
            f"got {amount_micros}.",
            code="amount_out_of_bounds",
        )
    if amount_micros % MICROS_PER_CENT:
        raise InvalidInput(
            f"amount_micros must be whole cents (a multiple of {MICROS_PER_CENT}), got {amount_micros}.",
            code="amount_not_whole_cents",
        )
    return amount_micros


def buy_credit(
    uow: BillingUnitOfWork,
    payments: PaymentGateway,
    caller: Caller,
    amount_micros: int,
    currency: str,
    bounds: CreditBounds,
    request_key: str | None,
) -> CheckoutSession:
    """A Checkout Session for `amount_micros` of credit; the credit arrives with its completion webhook. A client's
    `Idempotency-Key` makes a retried request return the same session."""
    amount = check_amount(amount_micros, currency, bounds)
    stripe_id = stripe_customer(uow, payments, caller.customer_id)
    key = f"credit-checkout:{caller.customer_id}:{request_key or uuid.uuid4()}"
    return payments.credit_checkout(
        stripe_customer_id=stripe_id, customer_id=caller.customer_id, amount_micros=amount, idempotency_key=key
    )


def billing_portal(uow: BillingUnitOfWork, payments: PaymentGateway, caller: Caller) -> str:
    return payments.billing_portal(stripe_customer(uow, payments, caller.customer_id))


# -- subscriptions ------------------------------------------------------------------------------------------------
def tier_name(slug: str) -> str | None:
    """`pro-yearly`, `PRO`, `pro` -> `PRO`; None when it names no tier."""
    name = YEARLY.sub("", slug.strip()).upper().replace("-", "_")
    return name if name in TIERS else None


def price_for(prices: Mapping[str, str], tier: str) -> str:
    wanted = tier.strip().lower()
    for name, price in prices.items():
        if name.strip().lower() == wanted:
            return price
    offered = ", ".join(sorted(n.lower() for n in prices)) or "none are configured"
    raise InvalidInput(f"Unknown subscription tier {tier[:32]!r}; the tiers on offer: {offered}.", code="invalid_tier")


def subscription_checkout(
    uow: BillingUnitOfWork,
    payments: PaymentGateway,
    caller: Caller,
    prices: Mapping[str, str],
    tier: str,
    request_key: str | None,
) -> CheckoutSession:
    price = price_for(prices, tier)
    with uow:
        current = require_customer(uow, caller.customer_id)
        if current.subscription_status in ACTIVE_SUBSCRIPTIONS:
            raise InvalidInput(
                "You already have an active subscription: change it through the billing portal (POST "
                "/customers/billing).",
                code="subscription_active",
            )
    stripe_id = stripe_customer(uow, payments, caller.customer_id)
    key = f"subscription-checkout:{caller.customer_id}:{request_key or uuid.uuid4()}"
    return payments.subscription_checkout(
        stripe_customer_id=stripe_id,
        customer_id=caller.customer_id,
        price_id=price,
        tier=tier.strip().lower(),
        idempotency_key=key,
    )


def subscription_status(uow: BillingUnitOfWork, customer_id: str) -> SubscriptionStatus:
    with uow:
        customer = require_customer(uow, customer_id)
        return SubscriptionStatus(customer, uow.ledger.balance(customer_id).available > 0)


def forget_stripe(uow: BillingUnitOfWork, customer_id: str) -> str | None:
    """Unlink the customer from their Stripe customer (the next purchase makes a new one). Conservative: Stripe's
    own record, the ledger and the trail stay as they are (refunds, disputes and the reconciliation still find the
    payments through their metadata), and a customer with a live subscription is refused: cancel it first."""
    with uow:
        customer = require_customer(uow, customer_id, lock=True)
        if customer.subscription_status in ACTIVE_SUBSCRIPTIONS:
            raise Conflict(
                "The customer has a live subscription: cancel it before unlinking their Stripe data.",
                code="subscription_active",
            )
        previous = customer.stripe_customer_id
        if previous is not None:
            customer.stripe_customer_id = None
            uow.record(customer_id, "stripe_customer_unlinked", stripe_customer_id=previous)
            uow.commit()
        return previous


# -- coupons and promotion codes (admins) -------------------------------------------------------------------------
def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("This operation is for admins.", code="admin_only")


def list_objects(payments: PaymentGateway, caller: Caller, kind: StripeObjectKind, limit: int) -> ObjectPage:
    _require_admin(caller)
    items = payments.list_objects(kind, min(limit + 1, 100), None)
    return ObjectPage(items[:limit], len(items) > limit or (limit == 100 and len(items) == 100))


def list_promo_codes(payments: PaymentGateway, caller: Caller, limit: int, active: bool | None) -> ObjectPage:
    """Stripe's promotion codes, newest first, keeping those whose `active` matches when asked (a few pages read)."""
    if active is None:
        return list_objects(payments, caller, "promotion_code", limit)
    _require_admin(caller)
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_FILTER_PAGES):
        page = payments.list_objects("promotion_code", 100, after)
        found += [p for p in page if bool(p.get("active")) == active]
        if len(found) > limit or len(page) < 100:
            break
        after = str(page[-1]["id"])
    return ObjectPage(found[:limit], len(found) > limit)


def create_coupon(payments: PaymentGateway, caller: Caller, fields: Mapping[str, Any]) -> dict[str, Any]:
    _require_admin(caller)
    return payments.create_object("coupon", {k: v for k, v in fields.items() if v is not None})


def create_promo_code(
    payments: PaymentGateway, caller: Caller, coupon_id: str, expire_days: int, max_redemptions: int | None
) -> dict[str, Any]:
    """A promotion code for the coupon, its code made by Stripe, expiring `expire_days` from now."""
    _require_admin(caller)
    payments.get_object("coupon", coupon_id)  # NotFound before anything is made
    params: dict[str, Any] = {
        "promotion": {"type": "coupon", "coupon": coupon_id},
        "expires_at": int(time.time()) + expire_days * DAY_SECONDS,
    }
    if max_redemptions is not None:
        params["max_redemptions"] = max_redemptions
    return payments.create_object("promotion_code", params)


def get_object(payments: PaymentGateway, caller: Caller, kind: StripeObjectKind, object_id: str) -> dict[str, Any]:
    _require_admin(caller)
    return payments.get_object(kind, object_id)


def update_object(
    payments: PaymentGateway, caller: Caller, kind: StripeObjectKind, object_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    _require_admin(caller)
    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        raise InvalidInput("Nothing to change: give at least one field.", code="empty_update")
    return payments.update_object(kind, object_id, changes)


def delete_object(payments: PaymentGateway, caller: Caller, kind: StripeObjectKind, object_id: str) -> str:
    _require_admin(caller)
    payments.delete_object(kind, object_id)
    return object_id
