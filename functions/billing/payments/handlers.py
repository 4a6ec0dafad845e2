"""Buying credit, the billing portal, cloud subscriptions, unlinking Stripe, and the coupon and promotion-code admin
operations: each parses the request, calls one use case, and answers the wire shape."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.common.http import admin_secret, caller
from functions.billing.common.schemas import Body
from functions.billing.payments import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http import params
from shared.http.responses import json_response

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def _request_key(request: Request) -> str | None:
    key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    return key[:MAX_KEY_LENGTH] or None


def _optional_body(request: Request, model: type[Body]) -> None:
    """Bodies with nothing we act on are still checked to be JSON objects when sent."""
    if request.content_length:
        params.json_body(request, model)


def buy_credit(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.CreditIn)
    bounds = usecases.CreditBounds(c.settings.credit_min_micros, c.settings.credit_max_micros)
    session = usecases.buy_credit(
        c.billing_uow(), c.payments, who, body.amount_micros, body.currency, bounds, _request_key(request)
    )
    return json_response(serializers.checkout(session.url), 201)


def billing_portal(request: Request, c: Container) -> Response:
    who = caller(request, c)
    _optional_body(request, schemas.BillingPortalIn)
    return json_response(serializers.portal(usecases.billing_portal(c.billing_uow(), c.payments, who)))


def subscription_checkout(request: Request, c: Container, tier: str | None = None) -> Response:
    who = caller(request, c)
    _optional_body(request, schemas.SubscriptionCheckoutIn)
    chosen = tier or c.settings.subscription_default_tier
    session = usecases.subscription_checkout(
        c.billing_uow(), c.payments, who, c.settings.subscription_prices, chosen, _request_key(request)
    )
    return json_response(serializers.checkout(session.url), 201)


def subscription_status(request: Request, c: Container) -> Response:
    who = caller(request, c)
    return json_response(serializers.subscription(usecases.subscription_status(c.billing_uow(), who.customer_id)))


def admin_subscription_status(request: Request, c: Container, customer_id: str) -> Response:
    admin_secret(request, c)
    status = usecases.subscription_status(c.billing_uow(), customer_id)
    return json_response(serializers.subscription(status, admin=True))


def forget_stripe(request: Request, c: Container, customer_id: str) -> Response:
    admin_secret(request, c)
    previous = usecases.forget_stripe(c.billing_uow(), customer_id)
    return json_response(serializers.stripe_forgotten(customer_id, previous))


# -- coupons ------------------------------------------------------------------------------------------------------
def list_coupons(request: Request, c: Container) -> Response:
    who = caller(request, c)
    page = usecases.list_objects(c.payments, who, "coupon", schemas.page_limit(request.args))
    return json_response(serializers.coupons(page))


def create_coupon(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.CouponIn)
    return json_response(serializers.coupon(usecases.create_coupon(c.payments, who, body.model_dump())), 201)


def get_coupon(request: Request, c: Container, coupon_id: str) -> Response:
    who = caller(request, c)
    return json_response(serializers.coupon(usecases.get_object(c.payments, who, "coupon", coupon_id)))


def update_coupon(request: Request, c: Container, coupon_id: str) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.CouponUpdateIn)
    updated = usecases.update_object(c.payments, who, "coupon", coupon_id, body.model_dump())
    return json_response(serializers.coupon(updated))


def delete_coupon(request: Request, c: Container, coupon_id: str) -> Response:
    who = caller(request, c)
    return json_response(serializers.deleted_coupon(usecases.delete_object(c.payments, who, "coupon", coupon_id)))


# -- promotion codes ----------------------------------------------------------------------------------------------
def list_promo_codes(request: Request, c: Container) -> Response:
    who = caller(request, c)
    limit, active = schemas.page_limit(request.args), schemas.active_filter(request.args)
    return json_response(serializers.promo_codes(usecases.list_promo_codes(c.payments, who, limit, active)))


def create_promo_code(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.PromoCodeIn)
    created = usecases.create_promo_code(c.payments, who, body.coupon_id, body.expire_days, body.max_redemptions)
    return json_response(serializers.promo_code(created), 201)


def get_promo_code(request: Request, c: Container, promo_code_id: str) -> Response:
    who = caller(request, c)
    found = usecases.get_object(c.payments, who, "promotion_code", promo_code_id)
    return json_response(serializers.promo_code(found))


def update_promo_code(request: Request, c: Container, promo_code_id: str) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.PromoCodeUpdateIn)
    updated = usecases.update_object(c.payments, who, "promotion_code", promo_code_id, body.model_dump())
    return json_response(serializers.promo_code(updated))


def delete_promo_code(request: Request, c: Container, promo_code_id: str) -> Response:
    who = caller(request, c)
    gone = usecases.delete_object(c.payments, who, "promotion_code", promo_code_id)
    return json_response(serializers.deactivated_promo_code(gone))
