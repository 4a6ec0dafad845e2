"""The limits on the wire, as the live spec shapes them."""

from __future__ import annotations

from typing import Any

from functions.proxy.limits.policy import Classification, Resolved
from functions.proxy.limits.usecases import CustomerLimits


def mine(resolved: Resolved) -> dict[str, Any]:
    return {"limit": resolved.limit, "reason": resolved.reason}


def customer(view: CustomerLimits) -> dict[str, Any]:
    r = view.resolved
    return {
        "customer_id": view.customer_id,
        "effective_limit": r.limit,
        "effective_reason": r.reason,
        "engine_limit": r.engine_limit,
        "engine_reason": r.engine_reason,
        "lifetime_paid_spend_cents": r.paid_cents,
        "override": view.override,
    }


def classification(c: Classification) -> dict[str, Any]:
    return {
        "model": c.model,
        "effective_tier": c.effective_tier,
        "reason": c.reason,
        "cost_cents": c.cost_cents,
        "override": c.override,
    }


def message(text: str) -> dict[str, str]:
    return {"message": text}
