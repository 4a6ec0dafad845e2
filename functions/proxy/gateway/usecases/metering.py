"""Credit for a call: admitted (the rate limit), held (within the in-flight limit) before the partner is reached,
then captured at the actual cost or released, each settlement once (the ledger claims a hold by a conditional
UPDATE)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from functions.proxy.gateway.usecases.deps import Gateway
from shared.billing.callers import Caller
from shared.errors import Conflict, PaymentRequired, RateLimited
from shared.proxy.uow import ProxyUnitOfWork

log = logging.getLogger(__name__)


def admit(gw: Gateway, u: ProxyUnitOfWork, caller: Caller) -> None:
    """Count the call in the caller's minute; refuse past the per-minute limit (429 with Retry-After). Runs in the
    call's first transaction, so a refusal counts nothing."""
    now = time.time()
    minute = int(now // 60)
    if u.rates.count(caller.customer_id, minute) > gw.limits.calls_per_minute:
        wait = max(1, math.ceil(60 - now % 60))
        raise RateLimited(
            f"More than {gw.limits.calls_per_minute} gateway calls in a minute; retry in {wait} s.",
            retry_after=wait,
            code="rate_limited",
        )


def limit_in_flight(gw: Gateway, u: ProxyUnitOfWork, caller: Caller) -> None:
    """Refuse a call past the caller's limit of calls holding credit (this one's hold included). Checked after the
    hold, whose UPDATE of the caller's `available` row waits for any other call of theirs being admitted: so two
    racing calls are counted one after the other, and the limit is exact (SQLite's one writer does the same)."""
    if u.rates.in_flight(caller.customer_id) > gw.limits.max_in_flight:
        raise RateLimited(
            f"{gw.limits.max_in_flight} of your calls are still in flight; retry when one finishes.",
            retry_after=5,
            code="too_many_in_flight",
        )


def place(
    u: ProxyUnitOfWork,
    caller: Caller,
    key: str,
    amount: int,
    description: str,
    *,
    model: str = "",
    capped: bool = False,
) -> str:
    """Hold `amount` for the call; 402 insufficient_credit when available credit cannot cover it."""
    if u.customers.get(caller.customer_id) is None:
        raise PaymentRequired(
            "No credit: create your account (POST /customers) and add credit to use partner nodes.",
            code="insufficient_credit",
        )
    return u.ledger.place_hold(key, caller.customer_id, amount, description, model=model or None, capped=capped).id


def settle(u: ProxyUnitOfWork, hold_id: str, cost: int | None, details: Mapping[str, Any]) -> int:
    """Capture `cost` (at most the hold) or, with None, release the hold; what was charged (0 when another
    settlement got there first, or the holds sweep expired it)."""
    try:
        if cost is None:
            u.ledger.release(hold_id)
            return 0
        return u.ledger.capture(hold_id, max(0, cost), details=details).captured
    except Conflict as exc:  # settled before by another path: nothing more to move
        log.warning("hold %s was already settled: %s", hold_id, exc.message)
        return 0
