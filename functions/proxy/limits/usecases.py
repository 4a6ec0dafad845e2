"""Reading and pinning partner-node limits: a customer's own limit (what the gate enforces, without the figures
behind it), an operator's view and override of a customer's, and the models' tiers with an operator's pins."""

from __future__ import annotations

from dataclasses import dataclass

from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.limits.policy import TIERS, Classification, Resolved, classify, resolve, valid_override
from functions.proxy.limits.ratecard import rate_card
from shared.billing.callers import Caller
from shared.errors import InvalidInput, NotFound
from shared.proxy.uow import ProxyUnitOfWork

MODEL_MAX = 256


@dataclass(frozen=True)
class CustomerLimits:
    customer_id: str
    resolved: Resolved
    override: int | None


def mine(gw: Gateway, caller: Caller) -> Resolved:
    with gw.uow() as u:
        return _resolved(gw, u, caller.customer_id)


def of_customer(gw: Gateway, customer_id: str) -> CustomerLimits:
    with gw.uow() as u:
        _require_customer(u, customer_id)
        return CustomerLimits(customer_id, _resolved(gw, u, customer_id), u.limits.override(customer_id))


def pin_customer(gw: Gateway, customer_id: str, value: object) -> None:
    if not valid_override(value):
        raise InvalidInput("override must be -1 (unlimited), 0 (blocked) or 1..200.", code="invalid_override")
    assert isinstance(value, int)
    with gw.uow() as u:
        _require_customer(u, customer_id)
        u.limits.set_override(customer_id, value)
        u.commit()


def unpin_customer(gw: Gateway, customer_id: str) -> None:
    with gw.uow() as u:
        _require_customer(u, customer_id)
        u.limits.set_override(customer_id, None)
        u.commit()


def models(gw: Gateway) -> list[Classification]:
    card = rate_card()
    with gw.uow() as u:
        pins = u.limits.tiers()
    names = sorted(set(card) | set(pins))
    return [classify(m, card.get(m), pins.get(m), gw.limits.expensive_cents) for m in names]


def model(gw: Gateway, name: str) -> Classification:
    _check_model(name)
    with gw.uow() as u:
        pin = u.limits.tier(name)
    return classify(name, rate_card().get(name), pin, gw.limits.expensive_cents)


def pin_model(gw: Gateway, name: str, tier: str) -> None:
    _check_model(name)
    if tier not in TIERS:
        raise InvalidInput("tier must be 'expensive' or 'exempt'.", code="invalid_tier")
    with gw.uow() as u:
        u.limits.set_tier(name, tier)
        u.commit()


def unpin_model(gw: Gateway, name: str) -> None:
    _check_model(name)
    with gw.uow() as u:
        u.limits.clear_tier(name)
        u.commit()


def _resolved(gw: Gateway, u: ProxyUnitOfWork, customer_id: str) -> Resolved:
    return resolve(gw.limits.ladder, u.limits.override(customer_id), u.limits.lifetime_paid(customer_id))


def _require_customer(u: ProxyUnitOfWork, customer_id: str) -> None:
    if u.customers.get(customer_id) is None:
        raise NotFound("No such customer.", code="customer_not_found")


def _check_model(name: str) -> None:
    if not name or len(name) > MODEL_MAX or not name.isprintable():
        raise InvalidInput(f"A model id is 1 to {MODEL_MAX} printable characters.", code="invalid_model")
