"""Stripe's and Metronome's webhooks on the fakes: verified first, applied once per event, credit bought once per
payment whichever events bring it, refunds and disputes taken back once each, subscriptions set by the newest event."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest

from functions.billing.webhooks import usecases as hooks
from functions.billing.webhooks.usecases import metronome
from shared.bootstrap import Container
from shared.errors import InvalidInput, NotFound, Unauthenticated, Unavailable
from tests.fakes_billing import SIGNED, BillingStore, FakePayments, stripe_event
from tests.usecases.billing_world import balance, funded, signed_up

PRICES = {"pro": "price_pro", "standard": "price_std"}


def deliver(c: Container, payments: FakePayments, type_: str, obj: dict[str, Any], **kw: Any) -> hooks.Applied:
    return hooks.apply_stripe(c.billing_uow(), payments, stripe_event(type_, obj, **kw), SIGNED, PRICES)


def session(session_id: str, customer_id: str, cents: int, **changes: Any) -> dict[str, Any]:
    paid = {"mode": "payment", "payment_status": "paid", "currency": "usd", "amount_total": cents}
    return {"id": session_id, "client_reference_id": customer_id, "metadata": {"purpose": "credit"}, **paid, **changes}


def charge(
    customer_id: str, cents: int, *refunds: tuple[str, int, str], credit_micros: int | None = None
) -> dict[str, Any]:
    meta = {"purpose": "credit", "customer_id": customer_id, "amount_micros": str(credit_micros or cents * 10_000)}
    listed = [{"id": r, "amount": a, "status": s} for r, a, s in refunds]
    return {"id": "ch_1", "amount": cents, "metadata": meta, "refunds": {"data": listed}}


# -- verification and idempotency ----------------------------------------------------------------------------------
def test_a_forged_delivery_changes_nothing(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    body = stripe_event("checkout.session.completed", session("cs_1", "ann", 1000))
    with pytest.raises(InvalidInput):
        hooks.apply_stripe(billing.billing_uow(), payments, body, "t=1,v1=forged", PRICES)
    assert billing_store.applied == set() and balance(billing, "ann").available == 0


def test_a_credit_checkout_is_credited_once_whatever_brings_it(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    first = deliver(billing, payments, "checkout.session.completed", session("cs_1", "ann", 1000), event_id="evt_1")
    replay = deliver(billing, payments, "checkout.session.completed", session("cs_1", "ann", 1000), event_id="evt_1")
    deliver(billing, payments, "checkout.session.async_payment_succeeded", session("cs_1", "ann", 1000))
    assert first.handled and not first.replayed and replay.replayed
    assert balance(billing, "ann").available == 10_000_000
    assert billing_store.trail_types("ann").count("credit_purchased") == 1
    assert deliver(billing, payments, "customer.created", {"id": "cus_1"}).handled is False


@pytest.mark.parametrize(
    "changes",
    [
        {"payment_status": "unpaid"},
        {"mode": "subscription"},
        {"metadata": {}},
        {"currency": "eur"},
        {"amount_total": 0},
    ],
)
def test_a_checkout_that_bought_no_credit_credits_nothing(
    billing: Container, payments: FakePayments, changes: dict[str, Any]
) -> None:
    signed_up(billing, "ann")
    deliver(billing, payments, "checkout.session.completed", session("cs_1", "ann", 1000, **changes))
    assert balance(billing, "ann").available == 0


def test_a_payment_for_an_unknown_customer_is_refused_whole_then_applied_on_redelivery(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    paid = session("cs_1", "ann", 1000)
    with pytest.raises(NotFound):
        deliver(billing, payments, "checkout.session.completed", paid, event_id="evt_1")
    assert billing_store.applied == set()  # not even the applied row: Stripe retries
    signed_up(billing, "ann")
    assert not deliver(billing, payments, "checkout.session.completed", paid, event_id="evt_1").replayed
    assert balance(billing, "ann").available == 10_000_000


def test_a_credit_invoice_is_credited_and_a_subscription_invoice_only_noted(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    credit = {
        "id": "in_1",
        "status": "paid",
        "amount_paid": 500,
        "metadata": {"purpose": "credit", "customer_id": "ann"},
    }
    deliver(billing, payments, "invoice.paid", credit)
    deliver(billing, payments, "invoice.payment_succeeded", credit)
    tier = {"id": "in_2", "status": "paid", "amount_paid": 2000, "metadata": {"customer_id": "ann"}}
    deliver(billing, payments, "invoice.paid", tier)
    deliver(billing, payments, "invoice.payment_succeeded", tier)
    assert balance(billing, "ann").available == 5_000_000
    assert billing_store.trail_types("ann").count("invoice_paid") == 1


# -- refunds and disputes -------------------------------------------------------------------------------------------
def test_each_succeeded_refund_is_taken_back_once_even_below_zero(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    funded(billing, "ann", 10_000_000)
    deliver(
        billing, payments, "charge.refunded", charge("ann", 1000, ("re_1", 400, "succeeded"), ("re_2", 1, "pending"))
    )
    refund = {"id": "re_1", "amount": 400, "status": "succeeded", "charge": charge("ann", 1000)}
    deliver(billing, payments, "refund.updated", refund)
    assert balance(billing, "ann").available == 6_000_000
    deliver(billing, payments, "charge.refunded", charge("ann", 2000, ("re_3", 2000, "succeeded")))
    assert balance(billing, "ann").available == -14_000_000  # the gateway refuses calls until topped up
    assert billing_store.trail_types("ann").count("credit_refunded") == 2
    assert billing_store.audit().ok


def test_a_refund_takes_back_its_share_of_the_credit_bought(billing: Container, payments: FakePayments) -> None:
    funded(billing, "ann", 20_000_000)
    bonus = charge("ann", 1000, ("re_1", 500, "succeeded"), credit_micros=12_000_000)  # paid $10 for $12
    deliver(billing, payments, "charge.refunded", bonus)
    assert balance(billing, "ann").available == 14_000_000


def test_a_refund_of_a_charge_that_bought_no_credit_changes_nothing(billing: Container, payments: FakePayments) -> None:
    funded(billing, "ann", 1_000_000)
    other = charge("ann", 1000, ("re_1", 1000, "succeeded"))
    other["metadata"] = {"customer_id": "ann"}
    deliver(billing, payments, "charge.refunded", other)
    assert balance(billing, "ann").available == 1_000_000


def test_a_dispute_is_taken_once_and_given_back_when_won(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    funded(billing, "ann", 10_000_000)
    dispute = {
        "id": "dp_1",
        "amount": 1000,
        "status": "needs_response",
        "reason": "fraudulent",
        "charge": charge("ann", 1000),
    }
    deliver(billing, payments, "charge.dispute.created", dispute)
    deliver(billing, payments, "charge.dispute.funds_withdrawn", dispute)
    assert balance(billing, "ann").available == 0
    deliver(billing, payments, "charge.dispute.closed", {**dispute, "status": "won"})
    deliver(billing, payments, "charge.dispute.closed", {**dispute, "status": "won"})
    assert balance(billing, "ann").available == 10_000_000
    assert billing_store.trail_types("ann")[-2:] == ["credit_disputed", "dispute_won"]


def test_a_won_dispute_that_arrives_first_nets_to_zero_and_an_inquiry_moves_nothing(
    billing: Container, payments: FakePayments
) -> None:
    funded(billing, "ann", 10_000_000)
    inquiry = {"id": "dp_0", "amount": 1000, "status": "warning_needs_response", "charge": charge("ann", 1000)}
    deliver(billing, payments, "charge.dispute.created", inquiry)
    won = {"id": "dp_1", "amount": 1000, "status": "won", "charge": charge("ann", 1000)}
    deliver(billing, payments, "charge.dispute.closed", won)
    deliver(billing, payments, "charge.dispute.created", {**won, "status": "needs_response"})
    assert balance(billing, "ann").available == 10_000_000


# -- subscriptions --------------------------------------------------------------------------------------------------
def subscription(sub_id: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    items = {"data": [{"price": {"id": "price_pro"}, "current_period_end": 1_800_000_000}]}
    return {"id": sub_id, "customer": "cus_ann", "status": status, "items": items, **extra}


def test_subscription_events_set_the_tier_newest_first(
    billing: Container, payments: FakePayments, billing_store: BillingStore
) -> None:
    signed_up(billing, "ann")
    ann = billing_store.customers["ann"]
    ann.stripe_customer_id = "cus_ann"
    deliver(billing, payments, "customer.subscription.created", subscription("sub_1"), created=100)
    assert (ann.subscription_tier, ann.subscription_status) == ("PRO", "active")  # from the price
    assert ann.subscription_renewal_at == datetime.fromtimestamp(1_800_000_000, UTC)
    tiered = subscription("sub_1", metadata={"tier": "standard-yearly"})
    deliver(billing, payments, "customer.subscription.updated", tiered, created=200)
    assert ann.subscription_tier == "STANDARD"
    deliver(billing, payments, "customer.subscription.updated", subscription("sub_1", "past_due"), created=150)
    assert ann.subscription_status == "active"  # an older event delivered late changes nothing
    deliver(billing, payments, "customer.subscription.deleted", subscription("sub_0"), created=300)
    assert ann.subscription_id == "sub_1"  # the end of a replaced subscription changes nothing
    deliver(billing, payments, "customer.subscription.deleted", subscription("sub_1"), created=300)
    ended = billing_store.customers["ann"]  # read again: mypy keeps what the asserts above narrowed
    assert (ended.subscription_status, ended.subscription_tier) == ("canceled", None)


# -- Metronome ------------------------------------------------------------------------------------------------------
SECRET = "metronome-secret"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def notice(body: dict[str, Any], *, date: datetime = NOW, secret: str = SECRET) -> tuple[bytes, str, str]:
    raw, stamp = json.dumps(body).encode(), format_datetime(date, usegmt=True)
    return raw, stamp, hmac.new(secret.encode(), stamp.encode() + b"\n" + raw, hashlib.sha256).hexdigest()


def test_a_metronome_notice_is_verified_and_noted_once(billing: Container, billing_store: BillingStore) -> None:
    signed_up(billing, "ann")
    billing_store.customers["ann"].metronome_customer_id = "m-ann"
    raw, date, sig = notice(
        {"id": "n1", "type": "alerts.low_remaining_credit_balance", "properties": {"customer_id": "m-ann"}}
    )
    noted = metronome.metronome_notice(billing.billing_uow(), raw, [None, date], sig, SECRET, NOW)
    again = metronome.metronome_notice(billing.billing_uow(), raw, [date], sig, SECRET, NOW)
    assert (noted.customer_id, noted.replayed, again.replayed) == ("ann", False, True)
    assert billing_store.trail_types("ann").count("metronome_zero_balance") == 1
    with pytest.raises(Unavailable):
        metronome.metronome_notice(billing.billing_uow(), raw, [date], sig, None, NOW)
    with pytest.raises(Unauthenticated):
        metronome.metronome_notice(billing.billing_uow(), raw, [date], sig.replace(sig[0], "x"), SECRET, NOW)
    old_raw, old_date, old_sig = notice(
        {"id": "n2", "type": "t", "properties": {}}, date=datetime(2025, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(Unauthenticated, match="too far"):
        metronome.metronome_notice(billing.billing_uow(), old_raw, [old_date], old_sig, SECRET, NOW)
