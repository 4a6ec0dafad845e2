"""What callers send to the payments area: a credit purchase, a billing portal or subscription checkout request, and
the coupon and promotion-code admin bodies (Stripe's own fields; amounts in Stripe's cents where Stripe counts
them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, StringConstraints, model_validator
from werkzeug.datastructures import MultiDict

from functions.billing.common.schemas import Body
from shared.http import params

Short = Annotated[str, StringConstraints(max_length=500)]
Metadata = Annotated[dict[Annotated[str, StringConstraints(max_length=40)], Short], Field(max_length=50)]
MAX_PAGE = 100


class CreditIn(Body):
    amount_micros: StrictInt  # never a float: money is integer micro-USD
    currency: Annotated[str, StringConstraints(max_length=8)] = "usd"


class BillingPortalIn(Body):
    return_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    target_tier: Annotated[str, StringConstraints(max_length=32)] | None = None


class SubscriptionCheckoutIn(Body):
    """Marketing attribution fields (utm_*, gclid, ...) are accepted and ignored."""


class CouponIn(Body):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    amount_off: Annotated[StrictInt, Field(ge=0)] | None = None
    currency: Literal["usd"] | None = None
    duration: Literal["once", "repeating", "forever"] = "once"
    duration_in_months: Annotated[StrictInt, Field(ge=1, le=1200)] | None = None
    max_redemptions: Annotated[StrictInt, Field(ge=1)] | None = None
    metadata: Metadata | None = None
    name: Annotated[str, StringConstraints(max_length=40)] | None = None
    percent_off: Annotated[float, Field(gt=0, le=100)] | None = None
    redeem_by: Annotated[StrictInt, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CouponIn:
        if (self.amount_off is None) == (self.percent_off is None):
            raise ValueError("give exactly one of amount_off (cents) and percent_off")
        if self.amount_off is not None and self.currency is None:
            raise ValueError("currency is required with amount_off")
        if (self.duration == "repeating") != (self.duration_in_months is not None):
            raise ValueError("duration_in_months is required with duration repeating, and only then")
        return self


class CouponUpdateIn(Body):
    metadata: Metadata | None = None
    name: Annotated[str, StringConstraints(max_length=40)] | None = None


class PromoCodeIn(Body):
    coupon_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    expire_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 30
    max_redemptions: Annotated[StrictInt, Field(ge=1)] | None = None


class PromoCodeUpdateIn(Body):
    active: bool | None = None
    metadata: Metadata | None = None


def page_limit(args: MultiDict[str, str]) -> int:
    return params.integer(args, "limit", 10, minimum=1, maximum=MAX_PAGE, clamp=False)


def active_filter(args: MultiDict[str, str]) -> bool | None:
    return params.boolean(args, "active")
