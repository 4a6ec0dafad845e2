"""Stripe's and Metronome's webhook deliveries: authenticated by their signatures, not by a login."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.webhooks import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http.responses import json_response


def stripe_event(request: Request, c: Container) -> Response:
    """Every Stripe endpoint takes every event type we handle, so one Stripe webhook endpoint (or several) can point
    at any of them."""
    delivery = schemas.stripe_delivery(request)
    applied = usecases.apply_stripe(
        c.billing_uow(), c.payments, delivery.payload, delivery.signature, c.settings.subscription_prices
    )
    return json_response(serializers.stripe_applied(applied))


def metronome_zero_balance(request: Request, c: Container) -> Response:
    delivery = schemas.metronome_delivery(request)
    notice = usecases.metronome_notice(
        c.billing_uow(), delivery.payload, delivery.dates, delivery.signature, c.settings.metronome_webhook_secret
    )
    return json_response(serializers.metronome_applied(notice))
