"""Publish rate limits: new nodes and new versions, per publisher and per token."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.db.types import utcnow
from shared.errors import RateLimited
from shared.settings import Settings
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Limit:
    action: str
    burst: int
    interval: float


def new_node_limit(settings: Settings) -> Limit:
    return Limit("new-node", settings.rate_new_node_burst, settings.rate_new_node_interval_seconds)


def new_version_limit(settings: Settings) -> Limit:
    return Limit("new-version", settings.rate_new_version_burst, settings.rate_new_version_interval_seconds)


def spend(uow: UnitOfWork, limit: Limit, *subjects: str) -> None:
    """One token from each subject's bucket (e.g. `publisher:x`, `token:y`), inside the caller's transaction:
    if the use case fails later, the rollback gives the tokens back."""
    now = utcnow()
    wait = max(
        uow.rate_limits.take(f"{limit.action}:{s}", burst=limit.burst, interval=limit.interval, now=now)
        for s in subjects
    )
    if wait > 0:
        what = "new nodes" if limit.action == "new-node" else "new versions"
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"Too many {what}: at most {limit.burst} at once, then one every "
            f"{limit.interval:g} seconds. Try again in {seconds} seconds.",
            retry_after=seconds,
            code="rate_limited",
        )
