"""The payments area's wire shapes: checkout and portal URLs, the cloud subscription status, and Stripe's coupons
and promotion codes in the fields the API names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.billing.payments.usecases import ACTIVE_SUBSCRIPTIONS, ObjectPage, SubscriptionStatus, tier_name
from shared import wire

COUPON_FIELDS = (
    "amount_off",
    "currency",
    "duration_in_months",
    "max_redemptions",
    "name",
    "percent_off",
    "redeem_by",
    "times_redeemed",
)


def checkout(url: str) -> dict[str, Any]:
    return {"checkout_url": url}


def portal(url: str) -> dict[str, Any]:
    return {"billing_portal_url": url}


def subscription(status: SubscriptionStatus, *, admin: bool = False) -> dict[str, Any]:
    c = status.customer
    active = c.subscription_status in ACTIVE_SUBSCRIPTIONS
    out: dict[str, Any] = {
        "is_active": active,
        "has_fund": status.has_fund,
        "subscription_id": c.subscription_id if active else None,
        "subscription_tier": tier_name(c.subscription_tier or "") if active else None,
        # Not kept on the customer row yet (it needs a column): unknown, so null rather than a guess.
        "subscription_duration": None,
        "renewal_date": wire.time(c.subscription_renewal_at) if active else None,
        "end_date": wire.time(c.subscription_renewal_at) if c.subscription_status == "canceled" else None,
    }
    if not admin:
        out["free_tier_grant_state"] = None
    return out


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, Mapping) else {}


def coupon(obj: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(obj.get("id", "")),
        "duration": obj.get("duration") or "once",
        "valid": bool(obj.get("valid", True)),
        "metadata": _metadata(obj),
    }
    for name in COUPON_FIELDS:
        if obj.get(name) is not None:
            out[name] = obj[name]
    return out


def _coupon_id(obj: Mapping[str, Any]) -> str:
    """Since API 2025-09-30 a promotion code names its coupon under `promotion`; before, under `coupon`."""
    for holder in (obj.get("promotion"), obj):
        if isinstance(holder, Mapping):
            found = holder.get("coupon")
            if isinstance(found, Mapping):
                return str(found.get("id", ""))
            if found:
                return str(found)
    return ""


def promo_code(obj: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(obj.get("id", "")),
        "code": str(obj.get("code", "")),
        "coupon_id": _coupon_id(obj),
        "active": bool(obj.get("active")),
        "metadata": _metadata(obj),
    }
    for name in ("expires_at", "max_redemptions", "times_redeemed"):
        if obj.get(name) is not None:
            out[name] = obj[name]
    return out


def coupons(page: ObjectPage) -> dict[str, Any]:
    return {"coupons": [coupon(c) for c in page.items], "has_more": page.has_more}


def promo_codes(page: ObjectPage) -> dict[str, Any]:
    return {"promo_codes": [promo_code(p) for p in page.items], "has_more": page.has_more}


def deleted_coupon(coupon_id: str) -> dict[str, Any]:
    return {"message": f"Coupon {coupon_id} deleted.", "coupon_id": coupon_id}


def deactivated_promo_code(promo_code_id: str) -> dict[str, Any]:
    return {"message": f"Promotion code {promo_code_id} deactivated.", "promo_code_id": promo_code_id}


def stripe_forgotten(customer_id: str, previous: str | None) -> dict[str, Any]:
    if previous is None:
        return {"message": f"Customer {customer_id} had no Stripe customer linked; nothing changed."}
    return {"message": f"Customer {customer_id} is no longer linked to Stripe customer {previous}."}
