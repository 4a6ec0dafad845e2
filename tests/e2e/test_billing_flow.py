"""The billing issue's "done means", over HTTP against `python -m local serve` (its own process) with Stripe at
localstripe behind the loopback front and Metronome at a loopback fake: a customer is created, buys credit through a
Checkout Session whose completion arrives as a signed webhook, sees the balance, creates an API key, spends with it,
and the ledger, Stripe and the usage export agree in the reconciliation report."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.billing.stripe_front import StripeFront
from tests.billing.stripe_support import (
    PRICES,
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeServers,
    event,
    running_servers,
    signature,
)
from tests.billing.usage_support import EVENT_TYPE, METRIC_ID, TOKEN, FakeMetronome, serve_metronome
from tests.e2e.conftest import ServedStack, serve_stack

ADMIN_SECRET = "e2e-admin-secret"


@pytest.fixture(scope="module")
def metronome() -> Iterator[FakeMetronome]:
    with serve_metronome() as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe() -> Iterator[StripeServers]:
    """The process's localstripe behind a front of this module's own, so the Checkout Sessions Stripe lists are
    this test's alone (other tests of the process share localstripe)."""
    shared = running_servers()
    front = StripeFront(upstream=shared.localstripe.url)
    front.start()
    try:
        yield StripeServers(shared.localstripe, front)
    finally:
        front.stop()


@pytest.fixture(scope="module")
def billing_stack(
    tmp_path_factory: pytest.TempPathFactory, stripe: StripeServers, metronome: FakeMetronome
) -> Iterator[ServedStack]:
    settings = {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe.front.url,
        "SUBSCRIPTION_PRICES": json.dumps(PRICES),
        "METRONOME_API_TOKEN": TOKEN,
        "METRONOME_BASE_URL": metronome.url,
        "METRONOME_EVENT_TYPE": EVENT_TYPE,
        "METRONOME_BILLABLE_METRIC_ID": METRIC_ID,
        "ADMIN_SECRET_DIGEST": hashlib.sha256(ADMIN_SECRET.encode()).hexdigest(),
    }
    with serve_stack(tmp_path_factory.mktemp("billing-stack"), settings) as stack:
        yield stack


def test_buy_credit_spend_it_and_reconcile(
    billing_stack: ServedStack, stripe: StripeServers, metronome: FakeMetronome
) -> None:
    web = billing_stack
    me = web.login("buyer")
    assert web.post("/customers", json={"signup_source": "e2e"}, headers=me).status_code == 201

    # Buy 20 USD: the answer is Stripe's Checkout URL; the customer pays there; Stripe signs the completion.
    r = web.post("/customers/credit", json={"amount_micros": 20_000_000}, headers=me)
    assert r.status_code == 201, r.text
    session = r.json()["checkout_url"].rsplit("/", 1)[-1]
    assert web.get("/customers/balance", headers=me).json()["amount_micros"] == 0
    payload = event("checkout.session.completed", stripe.front.complete(session))
    for _ in range(3):  # Stripe delivers at least once
        hook = web.post(
            "/webhook/stripe/events",
            data=payload,
            headers={"Stripe-Signature": signature(payload), "Content-Type": "application/json"},
        )
        assert hook.status_code == 200, hook.text
    assert web.get("/customers/balance", headers=me).json()["amount_micros"] == 20_000_000

    # An API key, shown once, works as the customer's credential.
    key = web.post("/customers/api-keys", json={"name": "laptop"}, headers=me).json()["api_key"]["plaintext_key"]
    assert web.get("/customers/me", headers={"X-API-KEY": key}).json()["id"] == "buyer"

    # Spend 1.25 USD (a hold and its capture); the capture goes to Metronome through the task queue, once.
    charge = {"transaction_id": str(uuid.uuid4()), "params": {"amount_micros": 1_250_000, "model": "e2e"}}
    spent = web.post("/customers/buyer/usage", json=charge, headers={"X-Comfy-Admin-Secret": ADMIN_SECRET})
    assert spent.status_code == 200, spent.text
    balance = web.get("/customers/balance", headers={"X-API-KEY": key}).json()
    assert (balance["amount_micros"], balance["pending_charges_micros"]) == (18_750_000, 0)
    assert [e["properties"]["amount_micros"] for e in metronome.events.values()] == ["1250000"]
    assert not metronome.problems

    # An input file for a partner call goes to customer storage through the signed URL, and reads back.
    grant = web.post("/customers/storage", json={"file_name": "in.png", "content_type": "image/png"}, headers=me).json()
    assert (
        web.http.put(grant["upload_url"], data=b"png bytes", headers={"Content-Type": "image/png"}).status_code == 200
    )
    assert web.http.get(grant["download_url"]).content == b"png bytes"

    # The trail says what happened.
    trail = web.get("/customers/events", headers=me).json()["events"]
    assert {"customer_created", "credit_purchased", "api_key_created"} <= {e["event_type"] for e in trail}

    # The daily reconciliation: the ledger, Stripe and Metronome agree.
    found = web.post("/_local/jobs/reconcile").json()
    assert found["checks"]["stripe"] == "ok" and found["checks"]["ledger"] == "ok", found
    assert found["credited_missing"] == []
    assert found["counts"]["purchases_in_window"] == 1
    # localstripe is shared with the other tests of this process: invoices they paid name customers this stack has
    # never seen. Those are the only drifts there may be; nothing about this customer or its purchase.
    foreign = [d for d in found["drifts"] if d["kind"] == "payment_unknown_customer" and d["customer_id"] != "buyer"]
    assert found["drifts"] == foreign, found["drifts"]
    assert all(d["payment_id"] != session for d in foreign)
