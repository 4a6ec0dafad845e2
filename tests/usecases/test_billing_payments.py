"""Paying Stripe, on the fakes: credit amounts within bounds and in whole cents, a Stripe customer made once, a retried
checkout answered with the same session, subscription tiers mapped to prices, unlinking Stripe, and the admin-only
coupon and promotion-code operations."""

from __future__ import annotations

import pytest

from functions.billing.payments import usecases as pay
from shared.bootstrap import Container
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from tests.fakes_billing import BillingStore, FakePayments
from tests.usecases.billing_world import caller, funded, signed_up

BOUNDS = pay.CreditBounds(minimum=5_000_000, maximum=1_000_000_000)
PRICES = {"Standard": "price_std", "pro": "price_pro"}
ADMIN = caller("root", admin=True)


@pytest.mark.parametrize(
    ("micros", "currency", "code"),
    [
        (4_990_000, "usd", "amount_out_of_bounds"),
        (1_000_010_000, "usd", "amount_out_of_bounds"),
        (5_000_001, "usd", "amount_not_whole_cents"),
        (5_000_000, "eur", "unsupported_currency"),
    ],
)
def test_credit_is_sold_in_whole_us_cents_within_bounds(micros: int, currency: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        pay.check_amount(micros, currency, BOUNDS)
    assert refused.value.code == code
    assert pay.check_amount(5_000_000, "USD", BOUNDS) == 5_000_000
    assert pay.check_amount(1_000_000_000, "usd", BOUNDS) == 1_000_000_000


def test_buying_credit_links_one_stripe_customer_and_replays_by_request_key(
    billing: Container, billing_store: BillingStore, payments: FakePayments
) -> None:
    ann = signed_up(billing, "ann")
    with pytest.raises(InvalidInput):  # checked before Stripe is asked anything
        pay.buy_credit(billing.billing_uow(), payments, ann, 1, "usd", BOUNDS, None)
    assert payments.stripe_ids == {}
    first = pay.buy_credit(billing.billing_uow(), payments, ann, 10_000_000, "usd", BOUNDS, "req-1")
    again = pay.buy_credit(billing.billing_uow(), payments, ann, 10_000_000, "usd", BOUNDS, "req-1")
    other = pay.buy_credit(billing.billing_uow(), payments, ann, 10_000_000, "usd", BOUNDS, None)
    assert first == again != other
    assert payments.checkouts[0]["idempotency_key"] == "credit-checkout:ann:req-1"
    assert billing_store.customers["ann"].stripe_customer_id == payments.stripe_ids["ann"]
    assert billing_store.trail_types("ann").count("stripe_customer_linked") == 1
    assert pay.billing_portal(billing.billing_uow(), payments, ann).endswith(payments.stripe_ids["ann"])


def test_stripe_down_links_nothing(billing: Container, billing_store: BillingStore, payments: FakePayments) -> None:
    ann = signed_up(billing, "ann")
    payments.down = True
    with pytest.raises(Unavailable):
        pay.buy_credit(billing.billing_uow(), payments, ann, 10_000_000, "usd", BOUNDS, None)
    assert billing_store.customers["ann"].stripe_customer_id is None
    with pytest.raises(NotFound):
        pay.billing_portal(billing.billing_uow(), payments, caller("nobody"))


@pytest.mark.parametrize(
    ("slug", "tier"),
    [("pro", "PRO"), ("pro-yearly", "PRO"), ("Founders_Edition-annual", "FOUNDERS_EDITION"), ("gold", None)],
)
def test_tier_slugs_name_tiers(slug: str, tier: str | None) -> None:
    assert pay.tier_name(slug) == tier


def test_a_subscription_checkout_uses_the_tiers_price_once_none_is_active(
    billing: Container, billing_store: BillingStore, payments: FakePayments
) -> None:
    ann = signed_up(billing, "ann")
    with pytest.raises(InvalidInput, match="pro, standard") as refused:
        pay.subscription_checkout(billing.billing_uow(), payments, ann, PRICES, "gold", None)
    assert refused.value.code == "invalid_tier" and payments.checkouts == []
    pay.subscription_checkout(billing.billing_uow(), payments, ann, PRICES, " STANDARD ", "r")
    assert (payments.checkouts[-1]["price_id"], payments.checkouts[-1]["tier"]) == ("price_std", "standard")
    billing_store.customers["ann"].subscription_status = "past_due"
    with pytest.raises(InvalidInput) as active:
        pay.subscription_checkout(billing.billing_uow(), payments, ann, PRICES, "pro", None)
    assert active.value.code == "subscription_active"


def test_subscription_status_says_whether_credit_is_left(billing: Container) -> None:
    signed_up(billing, "ann")
    funded(billing, "bob", 1_000_000)
    assert not pay.subscription_status(billing.billing_uow(), "ann").has_fund
    assert pay.subscription_status(billing.billing_uow(), "bob").has_fund
    with pytest.raises(NotFound):
        pay.subscription_status(billing.billing_uow(), "nobody")


def test_unlinking_stripe_keeps_live_subscriptions(
    billing: Container, billing_store: BillingStore, payments: FakePayments
) -> None:
    ann = signed_up(billing, "ann")
    assert pay.forget_stripe(billing.billing_uow(), "ann") is None
    stripe_id = pay.stripe_customer(billing.billing_uow(), payments, "ann")
    billing_store.customers["ann"].subscription_status = "active"
    with pytest.raises(Conflict):
        pay.forget_stripe(billing.billing_uow(), "ann")
    billing_store.customers["ann"].subscription_status = "canceled"
    assert pay.forget_stripe(billing.billing_uow(), "ann") == stripe_id
    assert billing_store.customers["ann"].stripe_customer_id is None
    assert billing_store.trail_types(ann.customer_id)[-1] == "stripe_customer_unlinked"
    assert pay.stripe_customer(billing.billing_uow(), payments, "ann") == stripe_id  # Stripe's record stayed


def test_coupons_and_promotion_codes_are_for_admins(payments: FakePayments) -> None:
    ann = caller("ann")
    for call in (
        lambda: pay.list_objects(payments, ann, "coupon", 10),
        lambda: pay.create_coupon(payments, ann, {"percent_off": 10}),
        lambda: pay.get_object(payments, ann, "coupon", "c"),
        lambda: pay.delete_object(payments, ann, "coupon", "c"),
        lambda: pay.list_promo_codes(payments, ann, 10, active=True),
    ):
        with pytest.raises(Forbidden):
            call()
    assert payments.objects == {"coupon": [], "promotion_code": []}


def test_an_admin_manages_coupons_and_promotion_codes(payments: FakePayments) -> None:
    coupon = pay.create_coupon(payments, ADMIN, {"percent_off": 10, "name": None})
    assert "name" not in coupon
    with pytest.raises(NotFound):
        pay.create_promo_code(payments, ADMIN, "no-such-coupon", 7, None)
    assert payments.objects["promotion_code"] == []
    codes = [pay.create_promo_code(payments, ADMIN, coupon["id"], 7, 5) for _ in range(3)]
    assert codes[0]["max_redemptions"] == 5 and codes[0]["promotion"] == {"type": "coupon", "coupon": coupon["id"]}
    pay.update_object(payments, ADMIN, "promotion_code", codes[1]["id"], {"active": False, "metadata": None})
    with pytest.raises(InvalidInput):
        pay.update_object(payments, ADMIN, "promotion_code", codes[1]["id"], {"active": None})
    page = pay.list_objects(payments, ADMIN, "promotion_code", 2)
    assert [c["id"] for c in page.items] == [codes[2]["id"], codes[1]["id"]] and page.has_more
    inactive = pay.list_promo_codes(payments, ADMIN, 10, active=False)
    assert [c["id"] for c in inactive.items] == [codes[1]["id"]] and not inactive.has_more
    assert pay.delete_object(payments, ADMIN, "coupon", coupon["id"]) == coupon["id"]
