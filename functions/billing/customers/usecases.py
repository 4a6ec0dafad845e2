"""Customers: sign-up from a Firebase login, the customer's own view and an admin's, balances and the trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from functions.billing.common.customers import require_customer
from shared.billing.callers import Caller
from shared.billing.repository_ports import CustomerFilters
from shared.billing.uow import BillingUnitOfWork
from shared.db.billing_models import Customer, CustomerEvent
from shared.errors import Forbidden, NotFound
from shared.ledger.accounts import EntryKind
from shared.ledger.book import Balance


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    balance: Balance


@dataclass(frozen=True)
class EventPage:
    events: Sequence[CustomerEvent]
    total: int
    page: int
    limit: int


def register(uow: BillingUnitOfWork, caller: Caller, signup_source: str | None) -> tuple[CustomerView, bool]:
    """The caller's customer, created on first call (True) from the login's claims; later calls refresh them."""
    if caller.api_key_id is not None:
        # A key belongs to a customer that exists already: this is the same as reading it.
        return me(uow, caller), False
    identity = caller.identity
    with uow:
        values = {"email": identity.email, "name": identity.name, "signup_source": signup_source}
        created = uow.customers.create_if_missing(identity.uid, values)
        customer = require_customer(uow, identity.uid)
        if not created:
            customer.email = identity.email or customer.email
            customer.name = identity.name or customer.name
        customer.is_admin = caller.is_admin
        uow.ledger.open(identity.uid)
        if created:
            uow.record(identity.uid, "customer_created", signup_source=signup_source or "")
        uow.commit()
        return CustomerView(customer, uow.ledger.balance(identity.uid)), created


def me(uow: BillingUnitOfWork, caller: Caller) -> CustomerView:
    return view(uow, caller, caller.customer_id)


def view(uow: BillingUnitOfWork, caller: Caller, customer_id: str) -> CustomerView:
    """A customer as its owner or an admin sees it; anyone else is told it does not exist."""
    _require_self_or_admin(caller, customer_id)
    with uow:
        return CustomerView(require_customer(uow, customer_id), uow.ledger.balance(customer_id))


def balance(uow: BillingUnitOfWork, caller: Caller | None, customer_id: str) -> Balance:
    """`caller` None: the admin secret authorised the call."""
    if caller is not None:
        _require_self_or_admin(caller, customer_id)
    with uow:
        require_customer(uow, customer_id)
        return uow.ledger.balance(customer_id)


def search(
    uow: BillingUnitOfWork, caller: Caller, filters: CustomerFilters, page: int, limit: int
) -> tuple[list[CustomerView], int]:
    if not caller.is_admin:
        raise Forbidden("Searching customers is for admins.", code="admin_only")
    with uow:
        rows, total = uow.customers.search(filters, page, limit)
        balances = uow.ledger.balances([c.id for c in rows])
        return [CustomerView(c, balances[c.id]) for c in rows], total


def events(
    uow: BillingUnitOfWork,
    caller: Caller,
    customer_id: str,
    types: Sequence[str],
    window: tuple[datetime | None, datetime | None],
    page: int,
    limit: int,
) -> EventPage:
    _require_self_or_admin(caller, customer_id)
    with uow:
        require_customer(uow, customer_id)
        rows, total = uow.trail.page(customer_id, types, window, page, limit)
        return EventPage(rows, total, page, limit)


def _require_self_or_admin(caller: Caller, customer_id: str) -> None:
    if caller.customer_id != customer_id and not caller.is_admin:
        # Not 403: whether another customer exists is not the caller's business.
        raise NotFound(f"No customer {customer_id}.", code="customer_not_found")


def grant_promotion(uow: BillingUnitOfWork, customer_id: str, micros: int, key: str, reason: str) -> Balance:
    """Credit given by an operator (`python -m local grant`): from the promotions account, once per `key`. The
    customer is created if it does not exist yet, so credit can come before the first login."""
    with uow:
        uow.customers.create_if_missing(customer_id, {"email": None, "name": None, "signup_source": "grant"})
        posted = uow.ledger.grant(key, EntryKind.PROMOTION, customer_id, micros, details={"reason": reason})
        if posted.created:
            uow.record(customer_id, "credit_granted", amount_micros=micros, reason=reason)
        uow.commit()
        return uow.ledger.balance(customer_id)
