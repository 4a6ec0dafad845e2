"""Customers' rules on the fakes: sign-up creates once and refreshes, a customer is seen by itself or an admin,
searching is for admins, the trail pages, and an operator's grant credits once per key."""

from __future__ import annotations

import pytest

from functions.billing.customers import usecases as customers
from shared.auth.identity import Identity
from shared.billing.callers import Caller
from shared.billing.repository_ports import CustomerFilters
from shared.bootstrap import Container
from shared.errors import Forbidden, NotFound
from shared.ledger.book import Balance
from tests.fakes_billing import BillingStore
from tests.usecases.billing_world import balance, caller, signed_up


def test_sign_up_creates_the_customer_once_then_refreshes_it(billing: Container, billing_store: BillingStore) -> None:
    view, created = customers.register(billing.billing_uow(), caller("ann"), "web")
    assert created and view.customer.email == "ann@example.com" and view.balance == Balance(0, 0)
    refreshed = Caller(Identity("ann", "new@example.com", None), is_admin=False)
    again, created = customers.register(billing.billing_uow(), refreshed, None)
    assert not created and again.customer.email == "new@example.com" and again.customer.name == "Ann"
    assert billing_store.trail_types("ann") == ["customer_created"]
    assert billing_store.customers["ann"].signup_source == "web"


def test_sign_up_takes_the_admin_flag_from_the_caller(billing: Container, billing_store: BillingStore) -> None:
    customers.register(billing.billing_uow(), caller("root", admin=True), None)
    assert billing_store.customers["root"].is_admin
    customers.register(billing.billing_uow(), caller("root"), None)
    assert not billing_store.customers["root"].is_admin


def test_a_caller_with_an_api_key_signs_up_as_a_read(billing: Container, billing_store: BillingStore) -> None:
    with pytest.raises(NotFound):
        customers.register(billing.billing_uow(), caller("kim", api_key_id="k1"), None)
    assert billing_store.customers == {}
    signed_up(billing, "kim")
    view, created = customers.register(billing.billing_uow(), caller("kim", api_key_id="k1"), None)
    assert not created and view.customer.id == "kim"


def test_a_customer_is_seen_by_itself_or_an_admin_only(billing: Container) -> None:
    signed_up(billing, "ann")
    signed_up(billing, "bob")
    assert customers.me(billing.billing_uow(), caller("ann")).customer.id == "ann"
    assert customers.view(billing.billing_uow(), caller("root", admin=True), "ann").customer.id == "ann"
    with pytest.raises(NotFound):  # not 403: another customer's existence is not the caller's business
        customers.view(billing.billing_uow(), caller("bob"), "ann")
    with pytest.raises(NotFound):
        customers.balance(billing.billing_uow(), caller("bob"), "ann")
    with pytest.raises(NotFound, match="POST /customers"):
        customers.me(billing.billing_uow(), caller("nobody"))
    assert balance(billing, "ann") == Balance(0, 0)  # the admin secret (no caller)
    with pytest.raises(NotFound):
        balance(billing, "nobody")


def test_searching_customers_is_for_admins(billing: Container) -> None:
    for uid in ("ann", "anna", "bob"):
        signed_up(billing, uid)
    with pytest.raises(Forbidden):
        customers.search(billing.billing_uow(), caller("ann"), CustomerFilters(), 1, 10)
    admin = caller("root", admin=True)
    rows, total = customers.search(billing.billing_uow(), admin, CustomerFilters(email="ANN@"), 1, 10)
    assert ([v.customer.id for v in rows], total) == (["ann"], 1)
    rows, total = customers.search(billing.billing_uow(), admin, CustomerFilters(name="an"), 2, 1)
    assert ([v.customer.id for v in rows], total) == (["anna"], 2)


def test_the_trail_pages_by_type_for_its_customer_or_an_admin(billing: Container) -> None:
    signed_up(billing, "ann")
    customers.grant_promotion(billing.billing_uow(), "ann", 1_000_000, "g1", "welcome")
    page = customers.events(billing.billing_uow(), caller("ann"), "ann", [], (None, None), 1, 10)
    assert [e.type for e in page.events] == ["credit_granted", "customer_created"] and page.total == 2
    page = customers.events(
        billing.billing_uow(), caller("root", admin=True), "ann", ["credit_granted"], (None, None), 1, 10
    )
    assert [e.details["reason"] for e in page.events] == ["welcome"]
    with pytest.raises(NotFound):
        customers.events(billing.billing_uow(), caller("bob"), "ann", [], (None, None), 1, 10)


def test_a_grant_credits_once_per_key_even_before_sign_up(billing: Container, billing_store: BillingStore) -> None:
    assert customers.grant_promotion(billing.billing_uow(), "new", 2_000_000, "g1", "beta").available == 2_000_000
    assert customers.grant_promotion(billing.billing_uow(), "new", 2_000_000, "g1", "beta").available == 2_000_000
    assert billing_store.customers["new"].signup_source == "grant"
    assert billing_store.trail_types("new") == ["credit_granted"]
    _, created = customers.register(billing.billing_uow(), caller("new"), None)
    assert not created and balance(billing, "new").available == 2_000_000
    assert billing_store.audit().ok
