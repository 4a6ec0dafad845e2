"""Partner-node limits, decided: how many calls of the capped tier a customer may have in flight, and how much money
all their calls may hold at once (committed spend), both sized by lifetime paid spend off one ladder, with an
operator's override per customer; and which models are of the capped tier (by their representative cost, or an
operator's pin per model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UNLIMITED, BLOCKED = -1, 0
OVERRIDE_MAX = 200
EXPENSIVE, EXEMPT = "expensive", "exempt"
TIERS = (EXPENSIVE, EXEMPT)
MICROS_PER_CENT = 10_000


@dataclass(frozen=True)
class Step:
    paid_cents: int  # from this much lifetime paid spend
    concurrency: int
    committed_cents: int


@dataclass(frozen=True)
class Resolved:
    limit: int  # concurrent capped calls: -1 unlimited, 0 blocked
    reason: str  # manual_override | spend_ladder | never_paid | default
    committed_cents: int | None  # None: no committed-spend ceiling
    engine_limit: int  # what the ladder alone gives
    engine_reason: str
    paid_cents: int


@dataclass(frozen=True)
class Classification:
    model: str
    effective_tier: str  # "expensive", or "" for not capped
    reason: str  # model_override | cost_ladder | exempt | model_default
    cost_cents: float | None
    override: str | None

    @property
    def capped(self) -> bool:
        return self.effective_tier == EXPENSIVE


def ladder_of(steps: Sequence[tuple[int, int, int]]) -> tuple[Step, ...]:
    return tuple(sorted((Step(*s) for s in steps), key=lambda s: s.paid_cents))


def resolve(ladder: Sequence[Step], override: int | None, paid_micros: int) -> Resolved:
    paid_cents = paid_micros // MICROS_PER_CENT
    reached = [s for s in ladder if s.paid_cents <= paid_cents]
    step = reached[-1] if reached else None
    if step is None:
        engine, engine_reason, committed = UNLIMITED, "default", None
    else:
        engine, committed = step.concurrency, step.committed_cents
        engine_reason = "never_paid" if paid_cents == 0 else "spend_ladder"
    if override is None:
        return Resolved(engine, engine_reason, committed, engine, engine_reason, paid_cents)
    return Resolved(override, "manual_override", committed, engine, engine_reason, paid_cents)


def valid_override(value: object) -> bool:
    return type(value) is int and (value in (UNLIMITED, BLOCKED) or 1 <= value <= OVERRIDE_MAX)


def classify(model: str, cost_micros: int | None, override: str | None, expensive_cents: int) -> Classification:
    cost_cents = None if cost_micros is None else cost_micros / MICROS_PER_CENT
    if override in TIERS:
        tier = EXPENSIVE if override == EXPENSIVE else ""
        return Classification(model, tier, "model_override", cost_cents, override)
    if cost_cents is None:
        return Classification(model, "", "model_default", None, None)
    if cost_cents >= expensive_cents:
        return Classification(model, EXPENSIVE, "cost_ladder", cost_cents, None)
    return Classification(model, "", "exempt", cost_cents, None)
