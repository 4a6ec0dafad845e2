"""Usage's wire shapes. Amounts are integer micro-USD (the spec types them as numbers; integers are numbers)."""

from __future__ import annotations

from typing import Any

from functions.billing.usage.usecases import Series, TrackResult
from shared import wire
from shared.ledger.book import Balance


def dashboard(url: str) -> dict[str, Any]:
    return {"url": url}


def balance(b: Balance) -> dict[str, Any]:
    """As /customers/balance answers: spendable now, and the prepaid total with what calls in flight hold."""
    return {
        "amount_micros": b.available,
        "prepaid_balance_micros": b.available + b.held,
        "cloud_credit_balance_micros": 0,
        "currency": "usd",
    }


def series(s: Series) -> dict[str, Any]:
    return {
        "group_by": s.group_by,
        "granularity": s.granularity,
        "starting_on": wire.time(s.starting_on),
        "ending_before": wire.time(s.ending_before),
        "groups": [group for group, _ in s.breakdown],
        "buckets": [
            {
                "period_start": wire.time(p.start),
                "period_end": wire.time(p.end),
                "group_key": p.group_key,
                "cost_micros": p.amount,
            }
            for p in s.periods
        ],
        "breakdown": [
            {"group_key": group, "cost_micros": amount, "share": (amount / s.total) if s.total else 0.0}
            for group, amount in s.breakdown
        ],
        "summary": {"spend_micros": s.total, "balance": balance(s.balance)},
    }


def tracked(result: TrackResult) -> dict[str, Any]:
    if result.replayed:
        return {
            "message": f"Usage already recorded: {result.charged} micro-USD charged by ledger entry {result.entry_id}."
        }
    return {"message": f"Usage recorded: {result.charged} micro-USD charged by ledger entry {result.entry_id}."}


def archived(done: bool) -> dict[str, Any]:
    if done:
        return {"message": "The customer's Metronome record was archived; the ledger keeps their history."}
    return {"message": "Metronome has no record of this customer: nothing was archived."}
