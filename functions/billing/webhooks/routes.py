"""Stripe's and Metronome's webhooks (deployed within `billing`)."""

from __future__ import annotations

from functions.billing.webhooks import handlers
from shared.http.router import Route

ROUTES = [
    Route("POST", "/webhook/stripe/invoice-status", handlers.stripe_event, "StripeInvoiceStatus"),
    Route("POST", "/webhook/stripe/subscription", handlers.stripe_event, "StripeSubscriptionWebhook"),
    Route("POST", "/webhook/stripe/events", handlers.stripe_event, "StripeEvents"),
    Route("POST", "/webhook/metronome/zero-balance", handlers.metronome_zero_balance, "MetronomeZeroBalance"),
]
