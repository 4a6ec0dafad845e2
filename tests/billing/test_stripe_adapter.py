"""The Stripe adapter on its own: what reconciliation lists as paid, errors mapped to ours (never the key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.stripe_payments import StripePayments
from shared.errors import InvalidInput, NotFound, Unavailable
from tests.billing.stripe_support import SECRET_KEY, WEBHOOK_SECRET, StripeServers, ensure_plan, stripe_servers

__all__ = ["stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def adapter(base: str, key: str = SECRET_KEY) -> StripePayments:
    return StripePayments(
        key,
        webhook_secret=WEBHOOK_SECRET,
        api_base=base,
        success_url="https://example.test/ok",
        cancel_url="https://example.test/no",
        portal_return_url="https://example.test/back",
        max_network_retries=0,
    )


def test_paid_payments_lists_paid_credit_only(stripe_servers: StripeServers) -> None:
    stripe = adapter(stripe_servers.front.url)
    start = datetime.now(UTC) - timedelta(seconds=5)
    customer = stripe.ensure_customer("yan", "yan@example.com", "Yan")
    assert stripe.ensure_customer("yan", "yan@example.com", "Yan")  # idempotent on our id where Stripe honours keys
    paid = stripe.credit_checkout(
        stripe_customer_id=customer, customer_id="yan", amount_micros=9_990_000, idempotency_key="credit-checkout:yan:1"
    )
    unpaid = stripe.credit_checkout(
        stripe_customer_id=customer, customer_id="yan", amount_micros=5_000_000, idempotency_key="credit-checkout:yan:2"
    )
    stripe_servers.front.complete(paid.id)
    stripe_servers.front.complete(unpaid.id, paid=False)
    direct = stripe_servers.direct
    stripe_servers.front.charge(customer, 100, {})  # gives the customer a card for the invoices below
    methods = direct.v1.payment_methods.list(params={"customer": customer, "type": "card"})
    direct.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": methods.data[0].id}})
    plan = "plan_adapter_monthly"
    ensure_plan(stripe_servers, plan, 1500)
    invoices = {}
    for purpose in ("credit", "subscription"):  # localstripe bills subscriptions only; one is marked as credit
        sub = direct.v1.subscriptions.create(params={"customer": customer, "items": [{"plan": plan}]})
        newest = direct.v1.invoices.list(params={"customer": customer, "subscription": sub.id}).data[0]
        assert newest.status == "paid"
        if purpose == "credit":
            direct.v1.invoices.update(newest.id, params={"metadata": {"purpose": "credit", "customer_id": "yan"}})
        invoices[purpose] = newest.id
    found = {p.id: p for p in stripe.paid_payments(start, datetime.now(UTC) + timedelta(seconds=5))}
    assert paid.id in found and unpaid.id not in found
    assert found[paid.id].amount_micros == 9_990_000 and found[paid.id].customer_id == "yan"
    assert found[paid.id].kind == "checkout_session"
    assert invoices["credit"] in found and invoices["subscription"] not in found
    assert found[invoices["credit"]].kind == "invoice" and found[invoices["credit"]].amount_micros == 15_000_000
    later = list(stripe.paid_payments(datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC) + timedelta(hours=2)))
    assert paid.id not in {p.id for p in later}


def test_stripe_errors_become_ours_without_the_key(stripe_servers: StripeServers) -> None:
    stripe = adapter(stripe_servers.front.url)
    with pytest.raises(NotFound):
        stripe.get_object("coupon", "no-such-coupon")
    with pytest.raises(InvalidInput) as refused:
        stripe.create_object("coupon", {"duration": "once"})
    assert SECRET_KEY not in refused.value.message
    wrong = adapter(stripe_servers.front.url, key="sk_test_wrong_key_123456")
    with pytest.raises(Unavailable) as denied:
        wrong.billing_portal("cus_x")
    assert "sk_test" not in denied.value.message
    unreachable = adapter("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(Unavailable) as down:
        unreachable.ensure_customer("zed", None, None)
    assert down.value.code == "stripe_unavailable" and "sk_test" not in repr(unreachable)


def test_webhook_verification_needs_the_secret(stripe_servers: StripeServers) -> None:
    no_secret = StripePayments(
        SECRET_KEY,
        webhook_secret=None,
        api_base=stripe_servers.front.url,
        success_url="s",
        cancel_url="c",
        portal_return_url="p",
    )
    with pytest.raises(Unavailable) as refused:
        no_secret.webhook_event(b"{}", "t=1,v1=00")
    assert "STRIPE_WEBHOOK_SECRET" in refused.value.message


def test_a_payment_of_the_windows_last_second_is_listed(stripe_servers: StripeServers) -> None:
    """Stripe's `created` is whole seconds: a session paid in the same second the window ends is in the window."""
    stripe = adapter(stripe_servers.front.url)
    customer = stripe.ensure_customer("zed", "zed@example.com", "Zed")
    paid = stripe.credit_checkout(
        stripe_customer_id=customer, customer_id="zed", amount_micros=5_000_000, idempotency_key="credit-checkout:zed:1"
    )
    stripe_servers.front.complete(paid.id)
    created = stripe_servers.front.sessions[paid.id]["created"]
    until = datetime.fromtimestamp(created + 0.5, UTC)
    listed = {p.id for p in stripe.paid_payments(until - timedelta(hours=1), until)}
    assert paid.id in listed
