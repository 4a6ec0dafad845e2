"""Billing's callers and customers on the fakes, made through the use cases themselves, as the tests below need them."""

from __future__ import annotations

from functions.billing.customers import usecases as customers
from shared.billing.callers import Caller
from shared.bootstrap import Container
from shared.ledger.book import Balance
from tests.fakes import person


def caller(uid: str, *, admin: bool = False, api_key_id: str | None = None) -> Caller:
    return Caller(person(uid, admin=admin), is_admin=admin, api_key_id=api_key_id)


def signed_up(c: Container, uid: str, *, admin: bool = False) -> Caller:
    who = caller(uid, admin=admin)
    customers.register(c.billing_uow(), who, "test")
    return who


def funded(c: Container, uid: str, micros: int) -> Caller:
    """A customer with `micros` of promotional credit."""
    who = signed_up(c, uid)
    customers.grant_promotion(c.billing_uow(), uid, micros, f"grant:{uid}:{micros}", "test")
    return who


def balance(c: Container, uid: str) -> Balance:
    return customers.balance(c.billing_uow(), None, uid)
