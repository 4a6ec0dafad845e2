"""The partner-node gate, run in the transaction that holds a call's credit: the call's model is classified (capped
or not), then, after its hold, the customer's capped calls in flight are counted against their concurrency limit and
the money all their calls hold against their committed-spend ceiling. The hold's UPDATE of the customer's available
row orders racing admissions, so both counts are exact. A refusal is 429 with the figures in `X-Concurrency-*` or
`X-Committed-Spend-*` (in USD cents, the refused call excluded); an admitted call answers the committed-spend
figures with it included."""

from __future__ import annotations

import math
from dataclasses import dataclass

from functions.proxy.gateway.usecases.deps import Gateway
from functions.proxy.limits.policy import BLOCKED, MICROS_PER_CENT, UNLIMITED, Classification, classify, resolve
from functions.proxy.limits.ratecard import rate_card
from shared.billing.callers import Caller
from shared.errors import RateLimited
from shared.proxy.uow import ProxyUnitOfWork

RETRY_SECONDS = 5


@dataclass(frozen=True)
class Admitted:
    headers: dict[str, str]


def classify_call(gw: Gateway, u: ProxyUnitOfWork, model: str) -> Classification:
    return classify(model, rate_card().get(model), u.limits.tier(model), gw.limits.expensive_cents)


def check(gw: Gateway, u: ProxyUnitOfWork, caller: Caller, model: Classification, amount: int) -> Admitted:
    """After the call's hold: refuse it past either limit (its transaction then rolls back, hold and all)."""
    resolved = resolve(
        gw.limits.ladder, u.limits.override(caller.customer_id), u.limits.lifetime_paid(caller.customer_id)
    )
    capped, held = u.limits.in_flight(caller.customer_id)
    if resolved.limit == BLOCKED:
        raise _concurrency(f"Partner nodes are blocked on this account ({resolved.reason}).", 0, capped - model.capped)
    if model.capped and resolved.limit != UNLIMITED and capped > resolved.limit:
        message = f"{resolved.limit} of your calls to expensive models are already in flight; retry when one finishes."
        raise _concurrency(message, resolved.limit, capped - 1)
    if resolved.committed_cents is None:
        return Admitted({})
    ceiling = resolved.committed_cents * MICROS_PER_CENT
    if held > ceiling:
        before = held - amount
        headers = _spend(resolved.committed_cents, before)
        message = (
            f"Your calls in flight already hold ${before / 1e6:.2f} of your ${ceiling / 1e6:.2f} committed-spend "
            "ceiling; retry when one finishes."
        )
        raise RateLimited(message, retry_after=RETRY_SECONDS, code="committed_spend_exceeded", headers=headers)
    return Admitted(_spend(resolved.committed_cents, held))


def _concurrency(message: str, limit: int, current: int) -> RateLimited:
    headers = {"X-Concurrency-Limit": str(limit), "X-Concurrency-Current": str(max(0, current))}
    return RateLimited(message, retry_after=RETRY_SECONDS, code="concurrency_limit_exceeded", headers=headers)


def _spend(limit_cents: int, held_micros: int) -> dict[str, str]:
    current = math.ceil(held_micros / MICROS_PER_CENT)
    return {
        "X-Committed-Spend-Limit": str(limit_cents),
        "X-Committed-Spend-Current": str(current),
        "X-Committed-Spend-Remaining": str(max(0, limit_cents - current)),
    }
