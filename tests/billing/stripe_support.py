"""Stripe for the billing tests: `localstripe` (a stateful fake Stripe from PyPI: customers, payment methods, charges,
refunds, coupons, plans, subscriptions, invoices) served in-process on 127.0.0.1, behind a small loopback front that
answers what localstripe does not model (Checkout Sessions, billing portal sessions, promotion codes) as Stripe
would, checks the SDK's requests (the secret key, form encoding, our idempotency keys), and forwards everything else
to localstripe. Webhook events are signed with the test secret exactly as Stripe signs them.

Import the fixtures in a test module: `from tests.billing.stripe_support import stripe_api, stripe_servers` (and list
them in `__all__`). The servers themselves are in tests/billing/stripe_front.py."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.test import TestResponse

from shared.adapters.stripe_payments import StripePayments
from shared.ledger.book import Balance
from tests.billing.stripe_front import SECRET_KEY as SECRET_KEY
from tests.billing.stripe_front import LocalStripe, StripeFront, upstream_client
from tests.support import RegistryClient

WEBHOOK_SECRET = "whsec_comfy_billing_suite"
EVENTS = "/webhook/stripe/events"
METRONOME_SECRET = "metronome-test-secret"
ADMIN_SECRET = "billing-admin-secret"
PRICES = {"standard": "plan_comfy_standard", "pro": "plan_comfy_pro", "pro-yearly": "plan_comfy_pro_yearly"}


@dataclass
class StripeServers:
    localstripe: LocalStripe
    front: StripeFront

    @property
    def direct(self) -> Any:
        return upstream_client(self.localstripe.url)


_running: StripeServers | None = None
_start_lock = threading.Lock()


def running_servers() -> StripeServers:
    """One localstripe and one front per test process, whichever module asks first (each module that imports the
    fixture gets a fixture of its own, and localstripe's app can only ever run on one event loop); stopped when the
    process ends."""
    global _running
    with _start_lock:
        if _running is None:
            local = LocalStripe()
            front = StripeFront(upstream=local.start())
            front.start()
            _running = StripeServers(local, front)
            atexit.register(_stop)
        return _running


def _stop() -> None:
    if _running is not None:
        _running.front.stop()
        _running.localstripe.stop()


@pytest.fixture(scope="session")
def stripe_servers() -> StripeServers:
    return running_servers()


@pytest.fixture
def stripe_api(api: RegistryClient, stripe_servers: StripeServers) -> RegistryClient:
    """The functions with Stripe configured: the SDK talks to the loopback front (and through it to localstripe)."""
    settings = api.container.settings.model_copy(
        update={
            "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": stripe_servers.front.url,
            "subscription_prices": dict(PRICES),
            "metronome_webhook_secret": METRONOME_SECRET,
            "admin_secret_digest": hashlib.sha256(ADMIN_SECRET.encode()).hexdigest(),
        }
    )
    payments = StripePayments.from_settings(settings)
    api.use(settings=settings, payments=payments)
    return api


def ensure_plan(servers: StripeServers, plan_id: str, amount: int = 2000, interval: str = "month") -> None:
    """A price (a localstripe plan) that subscription checkout can name, made once per localstripe."""
    direct = servers.direct
    try:
        direct.v1.plans.retrieve(plan_id)
    except Exception:  # noqa: BLE001 - not there yet
        params = {
            "id": plan_id,
            "amount": amount,
            "currency": "usd",
            "interval": interval,
            "product": {"name": plan_id},
        }
        direct.v1.plans.create(params=params)


def ensure_plans(servers: StripeServers) -> None:
    """Every price of PRICES: yearly ones at 200 USD a year, the rest 20 USD a month."""
    for tier, price in PRICES.items():
        yearly = "yearly" in tier
        ensure_plan(servers, price, 20000 if yearly else 2000, "year" if yearly else "month")


# -- events, signed as Stripe signs them --------------------------------------------------------------------------
def signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event(type_: str, obj: Mapping[str, Any], *, created: int | None = None, event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "type": type_,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": dict(obj)},
    }
    return json.dumps(body, indent=2).encode()


def deliver(api: RegistryClient, payload: bytes, *, path: str = EVENTS, sig: str | None = None) -> TestResponse:
    headers = {"Stripe-Signature": signature(payload) if sig is None else sig}
    return api.post(path, data=payload, headers=headers)


# -- customers and balances ---------------------------------------------------------------------------------------
def new_customer(api: RegistryClient, uid: str) -> None:
    r = api.post("/customers", as_=uid)
    assert r.status_code in (200, 201), r.get_data(as_text=True)


def balance(api: RegistryClient, customer_id: str) -> Balance:
    with api.container.billing_uow() as uow:
        return uow.ledger.balance(customer_id)


def ledger_ok(api: RegistryClient) -> bool:
    from shared.ledger import audit

    with api.container.sessions() as s:
        return audit.check(s).ok


def trail(api: RegistryClient, customer_id: str) -> list[str]:
    from sqlalchemy import select

    from shared.db.billing_models import CustomerEvent

    with api.container.sessions() as s:
        rows = s.scalars(select(CustomerEvent.type).where(CustomerEvent.customer_id == customer_id)).all()
    return list(rows)


def checkout_url_session(stripe_servers: StripeServers, url: str) -> str:
    return url.rsplit("/", 1)[-1]
