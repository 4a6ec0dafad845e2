"""Stripe's webhooks: signatures, replays, reordering, refunds, disputes and subscriptions, on both databases. The
charges and refunds are localstripe's own objects; the events are signed with the test secret as Stripe signs
them."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.billing.stripe_support import (
    ADMIN_SECRET,
    EVENTS,
    PRICES,
    StripeServers,
    balance,
    deliver,
    event,
    ledger_ok,
    new_customer,
    signature,
    stripe_api,
    stripe_servers,
    trail,
)
from tests.faults.support import changes, snapshot
from tests.support import RegistryClient

__all__ = ["stripe_api", "stripe_servers"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # localstripe's aiohttp handlers

USD = 1_000_000
CENT = 10_000


def paid_checkout(api: RegistryClient, servers: StripeServers, uid: str, micros: int) -> dict[str, Any]:
    r = api.post("/customers/credit", as_=uid, json_body={"amount_micros": micros, "currency": "usd"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return servers.front.complete(r.get_json()["checkout_url"].rsplit("/", 1)[-1])


def stripe_id(api: RegistryClient, uid: str) -> str:
    with api.container.billing_uow() as uow:
        customer = uow.customers.get(uid)
        assert customer is not None and customer.stripe_customer_id
        return customer.stripe_customer_id


def credit_charge(servers: StripeServers, customer: str, uid: str, cents: int) -> dict[str, Any]:
    metadata = {"customer_id": uid, "purpose": "credit", "amount_micros": str(cents * CENT)}
    return servers.front.charge(customer, cents, metadata)


# -- signatures -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "forge",
    [
        lambda p: signature(p, secret="whsec_someone_else"),
        lambda p: signature(p, at=int(time.time()) - 3600),  # older than the tolerance
        lambda p: signature(p).replace("v1=", "v0="),
        lambda p: "t=abc,v1=zz",
        lambda p: "",
        lambda p: signature(p + b" "),  # signed another payload
    ],
    ids=["wrong-secret", "stale", "no-v1", "malformed", "missing", "tampered"],
)
def test_forged_and_stale_signatures_are_400_and_change_nothing(
    stripe_api: RegistryClient, stripe_servers: StripeServers, forge: Callable[[bytes], str]
) -> None:
    new_customer(stripe_api, "ivy")
    completed = paid_checkout(stripe_api, stripe_servers, "ivy", 10 * USD)
    payload = event("checkout.session.completed", completed)
    before = snapshot(stripe_api.container)
    r = stripe_api.post(EVENTS, data=payload, headers={"Stripe-Signature": forge(payload)} if forge(payload) else {})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"] == "invalid_signature"
    assert not changes(before, snapshot(stripe_api.container))
    assert balance(stripe_api, "ivy").available == 0


def test_every_stripe_endpoint_takes_every_event(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    new_customer(stripe_api, "jon")
    for n, path in enumerate(("/webhook/stripe/invoice-status", "/webhook/stripe/subscription", EVENTS), start=1):
        completed = paid_checkout(stripe_api, stripe_servers, "jon", 5 * USD)
        r = deliver(stripe_api, event("checkout.session.completed", completed), path=path)
        assert r.status_code == 200 and r.get_json()["handled"] is True
        assert balance(stripe_api, "jon").available == n * 5 * USD
    ignored = deliver(stripe_api, event("payout.paid", {"id": "po_1", "object": "payout"}))
    assert ignored.status_code == 200 and ignored.get_json()["handled"] is False


def test_an_unpaid_or_foreign_checkout_credits_nothing(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "kim")
    r = stripe_api.post("/customers/credit", as_="kim", json_body={"amount_micros": 5 * USD})
    unpaid = stripe_servers.front.complete(r.get_json()["checkout_url"].rsplit("/", 1)[-1], paid=False)
    assert deliver(stripe_api, event("checkout.session.completed", unpaid)).status_code == 200
    other = {**unpaid, "id": "cs_other", "payment_status": "paid", "metadata": {"purpose": "something-else"}}
    assert deliver(stripe_api, event("checkout.session.completed", other)).status_code == 200
    assert balance(stripe_api, "kim").available == 0
    # Paid later (an asynchronous payment method): credited then.
    assert (
        deliver(
            stripe_api, event("checkout.session.async_payment_succeeded", {**unpaid, "payment_status": "paid"})
        ).status_code
        == 200
    )
    assert balance(stripe_api, "kim").available == 5 * USD


def test_a_payment_for_an_unknown_customer_is_refused_until_they_exist(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "lea")
    completed = paid_checkout(stripe_api, stripe_servers, "lea", 5 * USD)
    stray = {
        **completed,
        "id": "cs_stray_" + completed["id"],
        "client_reference_id": "ghost",
        "metadata": {**completed["metadata"], "customer_id": "ghost"},
    }
    payload = event("checkout.session.completed", stray)
    r = deliver(stripe_api, payload)
    assert r.status_code == 404 and r.get_json()["error"] == "customer_not_found"
    new_customer(stripe_api, "ghost")
    assert deliver(stripe_api, payload).get_json()["replayed"] is False  # not marked applied the first time
    assert balance(stripe_api, "ghost").available == 5 * USD


# -- replays and reordering -----------------------------------------------------------------------------------------
def scenario(api: RegistryClient, servers: StripeServers, uid: str) -> list[bytes]:
    """Every handled event type about one customer's payments; applied in any order, any number of times, they leave
    available credit at $20 + $10 - $5 - $8 + $8 = $25 and the subscription at PRO, active."""
    new_customer(api, uid)
    completed = paid_checkout(api, servers, uid, 20 * USD)
    customer = stripe_id(api, uid)
    return [
        event("checkout.session.completed", completed),
        event("checkout.session.async_payment_succeeded", completed),
        *invoice_events(uid, customer),
        *refund_events(servers, servers.front.sessions[completed["id"]]["_charge"]),
        *dispute_events(servers, customer, uid),
        *subscription_events(uid, customer),
    ]


def invoice_events(uid: str, customer: str) -> list[bytes]:
    paid = {"object": "invoice", "status": "paid", "customer": customer}
    credit = {
        **paid,
        "id": f"in_credit_{uid}",
        "amount_paid": 1000,
        "metadata": {"purpose": "credit", "customer_id": uid},
    }
    tier = {**paid, "id": f"in_sub_{uid}", "amount_paid": 2000, "parent": {"subscription_details": {"metadata": {}}}}
    return [
        event("invoice.paid", credit),
        event("invoice.payment_succeeded", credit),
        event("invoice.paid", tier),
        event("invoice.payment_succeeded", tier),
    ]


def refund_events(servers: StripeServers, charge_id: str) -> list[bytes]:
    """A $5 refund of the $20 checkout's charge (localstripe's), as each event type that can bring it."""
    refund = servers.direct.v1.refunds.create(params={"charge": charge_id, "amount": 500}).to_dict()
    refunded = servers.direct.v1.charges.retrieve(charge_id).to_dict()
    without_list = {k: v for k, v in refunded.items() if k != "refunds"}  # API versions since 2022-11-15
    return [
        event("charge.refunded", refunded),
        event("charge.refunded", without_list),
        event("refund.created", refund),
        event("charge.refund.updated", refund),
    ]


def dispute_events(servers: StripeServers, customer: str, uid: str) -> list[bytes]:
    """An $8 credit charge disputed and won, and an inquiry (which moves no money)."""
    disputed = credit_charge(servers, customer, uid, 800)
    dispute = {"id": f"dp_{uid}", "object": "dispute", "amount": 800, "charge": disputed["id"], "reason": "fraudulent"}
    return [
        event("charge.dispute.created", {**dispute, "status": "needs_response"}),
        event("charge.dispute.funds_withdrawn", {**dispute, "status": "needs_response"}),
        event("charge.dispute.closed", {**dispute, "status": "won"}),
        event("charge.dispute.created", {**dispute, "id": f"dp_inq_{uid}", "status": "warning_needs_response"}),
    ]


def subscription_events(uid: str, customer: str) -> list[bytes]:
    now = int(time.time())
    sub = {"id": f"sub_{uid}", "object": "subscription", "customer": customer, "metadata": {"customer_id": uid}}
    first = [{"price": {"id": PRICES["standard"]}, "current_period_end": now + 86400}]
    later = [{"price": {"id": PRICES["pro"]}, "current_period_end": now + 2 * 86400}]
    created = {**sub, "status": "incomplete", "items": {"object": "list", "data": first}}
    updated = {**sub, "status": "active", "items": {"object": "list", "data": later}}
    return [
        event("customer.subscription.created", created, created=now - 10),
        event("customer.subscription.updated", updated, created=now),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_event_replayed_five_times_in_any_order_counts_once(
    stripe_api: RegistryClient, stripe_servers: StripeServers, seed: int
) -> None:
    uid = f"max{seed}"
    events = scenario(stripe_api, stripe_servers, uid)
    deliveries = [e for e in events for _ in range(5)]
    random.Random(seed).shuffle(deliveries)
    for payload in deliveries:
        r = deliver(stripe_api, payload)
        assert r.status_code == 200, r.get_data(as_text=True)
    assert balance(stripe_api, uid).available == 25 * USD
    assert ledger_ok(stripe_api)
    kinds = entry_kinds(stripe_api, uid)
    assert sorted(kinds) == sorted(["purchase", "purchase", "refund", "dispute", "dispute_won"])
    status = stripe_api.get("/customers/cloud-subscription-status", as_=uid).get_json()
    assert status["is_active"] is True and status["subscription_tier"] == "PRO"
    events_seen = trail(stripe_api, uid)
    assert events_seen.count("credit_purchased") == 2 and events_seen.count("credit_refunded") == 1
    assert events_seen.count("invoice_paid") == 1  # the subscription invoice: noted, no credit


def entry_kinds(api: RegistryClient, uid: str) -> list[str]:
    from sqlalchemy import select

    from shared.db.billing_models import LedgerEntry

    with api.container.sessions() as s:
        return list(s.scalars(select(LedgerEntry.kind).where(LedgerEntry.customer_id == uid)))


def test_refunds_and_disputes_may_make_available_credit_negative(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "ned")
    completed = paid_checkout(stripe_api, stripe_servers, "ned", 10 * USD)
    assert deliver(stripe_api, event("checkout.session.completed", completed)).status_code == 200
    with stripe_api.container.billing_uow() as uow:  # $8 spent on a partner call
        hold = uow.ledger.place_hold("call-ned", "ned", 8 * USD)
        uow.commit()
    with stripe_api.container.billing_uow() as uow:
        uow.ledger.capture(hold.id, 8 * USD)
        uow.commit()
    charge_id = stripe_servers.front.sessions[completed["id"]]["_charge"]
    refund = stripe_servers.direct.v1.refunds.create(params={"charge": charge_id}).to_dict()
    assert deliver(stripe_api, event("refund.created", refund)).status_code == 200
    assert balance(stripe_api, "ned").available == -8 * USD
    assert stripe_api.get("/customers/balance", as_="ned").get_json()["amount_micros"] == -8 * USD
    assert ledger_ok(stripe_api)
    # A dispute of a charge that bought no credit (no metadata) takes nothing.
    plain = stripe_servers.front.charge(stripe_id(stripe_api, "ned"), 700, {})
    dispute = {"id": "dp_plain_ned", "object": "dispute", "amount": 700, "charge": plain["id"], "status": "lost"}
    assert deliver(stripe_api, event("charge.dispute.created", dispute)).status_code == 200
    assert balance(stripe_api, "ned").available == -8 * USD


def test_a_lost_dispute_keeps_the_credit_taken(stripe_api: RegistryClient, stripe_servers: StripeServers) -> None:
    new_customer(stripe_api, "ora")
    completed = paid_checkout(stripe_api, stripe_servers, "ora", 10 * USD)
    deliver(stripe_api, event("checkout.session.completed", completed))
    charge_id = stripe_servers.front.sessions[completed["id"]]["_charge"]
    dispute = {"id": "dp_ora", "object": "dispute", "amount": 1000, "charge": charge_id, "status": "lost"}
    assert deliver(stripe_api, event("charge.dispute.closed", dispute)).status_code == 200
    assert (
        deliver(stripe_api, event("charge.dispute.created", {**dispute, "status": "needs_response"})).status_code == 200
    )
    assert balance(stripe_api, "ora").available == 0
    assert "credit_disputed" in trail(stripe_api, "ora")


# -- subscriptions --------------------------------------------------------------------------------------------------
def test_an_older_subscription_event_after_a_newer_one_changes_nothing(stripe_api: RegistryClient) -> None:
    new_customer(stripe_api, "pia")
    base = {"id": "sub_pia", "object": "subscription", "customer": "cus_none", "metadata": {"customer_id": "pia"}}
    now = int(time.time())
    active = {**base, "status": "active", "metadata": {"customer_id": "pia", "tier": "creator"}}
    assert deliver(stripe_api, event("customer.subscription.updated", active, created=now)).status_code == 200
    before = snapshot(stripe_api.container)
    stale = {**base, "status": "incomplete", "metadata": {"customer_id": "pia", "tier": "standard"}}
    assert deliver(stripe_api, event("customer.subscription.created", stale, created=now - 60)).status_code == 200
    delta = changes(before, snapshot(stripe_api.container))
    assert set(delta) <= {"applied_events"}, delta  # only the note that the event was seen
    status = stripe_api.get("/customers/cloud-subscription-status", as_="pia").get_json()
    assert status["subscription_tier"] == "CREATOR" and status["is_active"] is True
    # The end of some other, older subscription does not end this one.
    other = {**base, "id": "sub_old", "status": "canceled"}
    deliver(stripe_api, event("customer.subscription.deleted", other, created=now + 5))
    assert stripe_api.get("/customers/cloud-subscription-status", as_="pia").get_json()["is_active"] is True
    # Its own end does.
    deliver(stripe_api, event("customer.subscription.deleted", {**active, "status": "canceled"}, created=now + 10))
    ended = stripe_api.get("/customers/cloud-subscription-status", as_="pia").get_json()
    assert ended["is_active"] is False and ended["subscription_tier"] is None


def test_a_subscription_found_by_its_stripe_customer_and_price(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "quin")
    paid_checkout(stripe_api, stripe_servers, "quin", 5 * USD)  # links a Stripe customer
    sub = {
        "id": "sub_quin",
        "object": "subscription",
        "customer": stripe_id(stripe_api, "quin"),
        "status": "trialing",
        "metadata": {},
        "items": {"object": "list", "data": [{"plan": {"id": PRICES["pro-yearly"]}}]},
        "current_period_end": 1_900_000_000,
    }
    assert deliver(stripe_api, event("customer.subscription.created", sub)).status_code == 200
    status = stripe_api.get("/customers/cloud-subscription-status", as_="quin").get_json()
    assert status["subscription_tier"] == "PRO" and status["is_active"] is True
    assert status["renewal_date"].startswith("2030-03-17")


def test_admins_unlink_stripe_only_without_a_live_subscription(
    stripe_api: RegistryClient, stripe_servers: StripeServers
) -> None:
    new_customer(stripe_api, "rex")
    completed = paid_checkout(stripe_api, stripe_servers, "rex", 5 * USD)
    deliver(stripe_api, event("checkout.session.completed", completed))
    old = stripe_id(stripe_api, "rex")
    path, secret = "/admin/customers/rex/stripe-data", {"X-Comfy-Admin-Secret": ADMIN_SECRET}
    assert stripe_api.delete(path).status_code == 401
    assert stripe_api.delete(path, as_="root", admin=True).status_code == 401  # the admin secret, as the spec says
    assert stripe_api.delete("/admin/customers/nobody/stripe-data", headers=secret).status_code == 404
    sub = {"id": "sub_rex", "object": "subscription", "status": "active", "metadata": {"customer_id": "rex"}}
    deliver(stripe_api, event("customer.subscription.created", sub))
    live = stripe_api.delete(path, headers=secret)
    assert live.status_code == 409 and live.get_json()["error"] == "subscription_active"
    deliver(
        stripe_api, event("customer.subscription.deleted", {**sub, "status": "canceled"}, created=int(time.time()) + 1)
    )
    gone = stripe_api.delete(path, headers=secret)
    assert gone.status_code == 200 and old in gone.get_json()["message"]
    assert stripe_api.get("/customers/me", as_="rex").get_json().get("stripe_id") is None
    assert balance(stripe_api, "rex").available == 5 * USD  # the ledger is untouched
    admin_view = stripe_api.get("/admin/customers/rex/cloud-subscription-status", headers=secret)
    assert admin_view.status_code == 200 and admin_view.get_json()["is_active"] is False
    # The next purchase makes a new Stripe customer.
    paid_checkout(stripe_api, stripe_servers, "rex", 5 * USD)
    assert stripe_id(stripe_api, "rex") != old
