"""Buying credit through Stripe Checkout, the billing portal and cloud subscriptions, against localstripe and the
loopback front (tests/billing/stripe_support.py), on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.billing.stripe_support import (
    PRICES,
    SECRET_KEY,
    StripeServers,
    balance,
    deliver,
    ensure_plans,
    event,
    ledger_ok,
    new_customer,
    stripe_api,
    stripe_servers,
    trail,
)
from tests.support import RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # localstripe's aiohttp handlers

USD = 1_000_000


def buy(api: RegistryClient, uid: str, micros: int, **headers: str) -> Any:
    return api.post(
        "/customers/credit", as_=uid, json_body={"amount_micros": micros, "currency": "usd"}, headers=headers
    )


def session_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_credit_checkout_round_trip(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    """customer -> POST /customers/credit -> Checkout URL -> signed checkout.session.completed -> credit."""
    front = stripe_servers.front
    new_customer(stripe_api, "ada")
    r = buy(stripe_api, "ada", 12_340_000)
    assert r.status_code == 201, r.get_data(as_text=True)
    url = r.get_json()["checkout_url"]
    assert url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    created = front.sessions[session_id(url)]
    assert created["mode"] == "payment" and created["client_reference_id"] == "ada"
    assert created["amount_total"] == 1234
    assert created["metadata"] == {"customer_id": "ada", "amount_micros": "12340000", "purpose": "credit"}
    request = [s for s in front.seen if s.path == "/v1/checkout/sessions" and s.method == "POST"][-1]
    assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["Idempotency-Key"].startswith("credit-checkout:ada:")
    assert request.form["payment_intent_data"]["metadata"]["purpose"] == "credit"
    assert request.form["line_items"][0]["price_data"]["unit_amount"] == "1234"
    # The Stripe customer was made once and is kept on the customer row.
    with stripe_api.container.billing_uow() as uow:
        customer = uow.customers.get("ada")
        assert customer is not None and customer.stripe_customer_id == created["customer"]
    assert balance(stripe_api, "ada").available == 0  # nothing until Stripe says it was paid

    completed = front.complete(session_id(url))
    answer = deliver(stripe_api, event("checkout.session.completed", completed))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["handled"] is True
    assert balance(stripe_api, "ada").available == 12_340_000
    assert stripe_api.get("/customers/balance", as_="ada").get_json()["amount_micros"] == 12_340_000
    assert "credit_purchased" in trail(stripe_api, "ada")
    assert ledger_ok(stripe_api)


def test_a_second_purchase_reuses_the_stripe_customer(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "bea")
    first = session_id(buy(stripe_api, "bea", 5 * USD).get_json()["checkout_url"])
    second = session_id(buy(stripe_api, "bea", 6 * USD).get_json()["checkout_url"])
    sessions = stripe_servers.front.sessions
    assert first != second and sessions[first]["customer"] == sessions[second]["customer"]


def test_an_idempotency_key_answers_the_same_session(stripe_api: RegistryClient) -> None:
    new_customer(stripe_api, "cid")
    key = {"Idempotency-Key": f"click-{uuid.uuid4()}"}  # Stripe keeps keys a day, across this whole session
    one = buy(stripe_api, "cid", 5 * USD, **key).get_json()["checkout_url"]
    two = buy(stripe_api, "cid", 5 * USD, **key).get_json()["checkout_url"]
    assert one == two
    reused = buy(stripe_api, "cid", 7 * USD, **key)
    assert reused.status_code == 400 and reused.get_json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amount_micros": 4_990_000}, "amount_out_of_bounds"),  # below CREDIT_MIN_MICROS ($5)
        ({"amount_micros": 1_000_010_000}, "amount_out_of_bounds"),  # above CREDIT_MAX_MICROS ($1,000)
        ({"amount_micros": 5_000_001}, "amount_not_whole_cents"),
        ({"amount_micros": 0}, "amount_out_of_bounds"),
        ({"amount_micros": -5_000_000}, "amount_out_of_bounds"),
        ({"amount_micros": 5_000_000, "currency": "eur"}, "unsupported_currency"),
        ({"amount_micros": 5_000_000.0}, "invalid_input"),  # money is never a float
        ({"amount_micros": "5000000"}, "invalid_input"),
        ({}, "invalid_input"),
    ],
)
def test_amounts_outside_the_bounds_are_400(stripe_api: RegistryClient, body: dict[str, Any], code: str) -> None:
    new_customer(stripe_api, "dan")
    r = stripe_api.post("/customers/credit", as_="dan", json_body=body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"] == code
    if code == "amount_out_of_bounds":
        assert "$5.00" in r.get_json()["message"] and "$1,000.00" in r.get_json()["message"]


def test_without_stripe_configured_buying_is_503_with_the_reason(api: RegistryClient) -> None:
    new_customer(api, "eve")
    r = api.post("/customers/credit", as_="eve", json_body={"amount_micros": 10 * USD, "currency": "usd"})
    assert r.status_code == 503
    assert r.get_json()["error"] == "payments_not_configured"
    assert "STRIPE_SECRET_KEY" in r.get_json()["message"]
    assert r.headers["Retry-After"]
    assert api.post("/customers/billing", as_="eve").status_code == 503
    # Webhooks cannot be verified without Stripe either: refused, nothing applied.
    assert deliver(api, event("checkout.session.completed", {"id": "cs_x"})).status_code == 503


def test_buying_needs_a_customer_and_a_login(stripe_api: RegistryClient) -> None:
    assert stripe_api.post("/customers/credit", json_body={"amount_micros": 10 * USD}).status_code == 401
    r = buy(stripe_api, "nobody", 10 * USD)
    assert r.status_code == 404
    assert r.get_json()["error"] == "customer_not_found" and "POST /customers" in r.get_json()["message"]


def test_billing_portal(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    new_customer(stripe_api, "fay")
    r = stripe_api.post("/customers/billing", as_="fay", json_body={"return_url": "https://evil.example"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["billing_portal_url"].startswith("https://billing.stripe.com/p/session/bps_")
    request = [s for s in stripe_servers.front.seen if s.path == "/v1/billing_portal/sessions"][-1]
    assert request.form["return_url"] == stripe_api.container.settings.billing_portal_return_url


def test_subscription_checkout_maps_tiers_to_prices(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    ensure_plans(stripe_servers)
    new_customer(stripe_api, "gus")
    r = stripe_api.post("/customers/cloud-subscription-checkout/pro-yearly", as_="gus", json_body={"utm_source": "x"})
    assert r.status_code == 201, r.get_data(as_text=True)
    session = stripe_servers.front.sessions[session_id(r.get_json()["checkout_url"])]
    assert session["mode"] == "subscription" and session["amount_total"] == 20000
    assert session["_subscription_data"]["metadata"] == {
        "customer_id": "gus",
        "tier": "pro-yearly",
        "purpose": "subscription",
    }
    default = stripe_api.post("/customers/cloud-subscription-checkout", as_="gus")
    assert default.status_code == 201  # SUBSCRIPTION_DEFAULT_TIER (STANDARD)
    unknown = stripe_api.post("/customers/cloud-subscription-checkout/platinum", as_="gus")
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "invalid_tier"
    assert "pro-yearly" in unknown.get_json()["message"]


def test_subscription_status_follows_the_events(stripe_api: RegistryClient) -> None:
    new_customer(stripe_api, "hal")
    status = stripe_api.get("/customers/cloud-subscription-status", as_="hal").get_json()
    assert status["is_active"] is False and status["subscription_tier"] is None and status["has_fund"] is False
    sub = {
        "id": "sub_hal",
        "object": "subscription",
        "customer": "cus_unknown",
        "status": "active",
        "metadata": {"customer_id": "hal", "tier": "pro"},
        "items": {"object": "list", "data": [{"price": {"id": PRICES["pro"]}, "current_period_end": 2_000_000_000}]},
    }
    assert deliver(stripe_api, event("customer.subscription.created", sub)).status_code == 200
    status = stripe_api.get("/customers/cloud-subscription-status", as_="hal").get_json()
    assert status["is_active"] is True and status["subscription_tier"] == "PRO"
    assert status["subscription_id"] == "sub_hal" and status["renewal_date"].startswith("2033-05-18")
    # Admins read it with the admin secret; nobody else does.
    assert stripe_api.get("/admin/customers/hal/cloud-subscription-status").status_code == 401
    again = stripe_api.post("/customers/cloud-subscription-checkout/standard", as_="hal")
    assert again.status_code == 400 and again.get_json()["error"] == "subscription_active"
