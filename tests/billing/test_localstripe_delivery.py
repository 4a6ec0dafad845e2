"""localstripe itself delivers a signed event to the billing function served on 127.0.0.1: a subscription made in
localstripe reaches the customer's row through `/webhook/stripe/subscription`, verified with the shared secret."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.billing.stripe_support import (
    PRICES,
    WEBHOOK_SECRET,
    StripeServers,
    ensure_plan,
    new_customer,
    stripe_api,
    stripe_servers,
)
from tests.support import Gateway, RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def served(registry_app: Gateway) -> Iterator[str]:
    """Every function behind the routing table, over HTTP on a free loopback port, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, registry_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="billing-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hook(stripe_servers: StripeServers, served: str) -> Iterator[None]:
    """localstripe posts its subscription events to our endpoint while the test runs."""
    from localstripe import webhooks

    name = f"comfy-{uuid.uuid4().hex[:8]}"
    webhooks.register_webhook(
        name, f"{served}/webhook/stripe/subscription", WEBHOOK_SECRET, ["customer.subscription.created"]
    )
    try:
        yield
    finally:
        webhooks._webhooks.pop(name, None)


def test_localstripe_delivers_a_signed_subscription_event(
    stripe_api: RegistryClient, stripe_servers: StripeServers, hook: None
) -> None:
    direct = stripe_servers.direct
    ensure_plan(stripe_servers, PRICES["pro"])
    new_customer(stripe_api, "wes")
    assert stripe_api.post("/customers/billing", as_="wes").status_code == 200  # links a Stripe customer
    with stripe_api.container.billing_uow() as uow:
        customer = uow.customers.get("wes")
        assert customer is not None and customer.stripe_customer_id
        stripe_customer = customer.stripe_customer_id
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = direct.v1.payment_methods.create(params={"type": "card", "card": card})
    direct.v1.payment_methods.attach(method.id, params={"customer": stripe_customer})
    direct.v1.customers.update(stripe_customer, params={"invoice_settings": {"default_payment_method": method.id}})
    subscription = direct.v1.subscriptions.create(
        params={"customer": stripe_customer, "items": [{"plan": PRICES["pro"]}], "metadata": {"tier": "pro"}}
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with stripe_api.container.billing_uow() as uow:
            found = uow.customers.get("wes")
            if found is not None and found.subscription_id == subscription.id:
                assert found.subscription_tier == "PRO"
                assert found.subscription_status == subscription.status
                return
        time.sleep(0.2)
    raise AssertionError("localstripe's customer.subscription.created never reached the customer")
