"""The rate card the limits read: every charged operation of the catalog as a model id (`<partner><path>`, the id
`comfy generate list` prints) with its representative cost (its price for a request that sets nothing)."""

from __future__ import annotations

from functools import cache

from functions.proxy.catalog.model import Operation, Partner, Role
from functions.proxy.catalog.partners import PARTNERS

CHARGED = (Role.SYNC, Role.SUBMIT)


def model_id(partner: Partner, op: Operation) -> str:
    return f"{partner.name}{op.path}"


@cache
def rate_card() -> dict[str, int]:
    """Model id -> micro-USD of a representative call."""
    card: dict[str, int] = {}
    for partner in PARTNERS.values():
        for op in partner.operations:
            if op.role in CHARGED and op.price is not None:
                card.setdefault(model_id(partner, op), op.price.estimate({}))
    return card
