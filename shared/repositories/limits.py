"""Token buckets in the database, spent with optimistic concurrency so that every database agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.dialect import insert_for
from shared.db.models import RateLimitBucket


class RateLimits:
    def __init__(self, session: Session) -> None:
        self.s = session

    def take(self, key: str, *, burst: int, interval: float, now: datetime, attempts: int = 8) -> float:
        """Spend one token of `key`'s bucket. Returns 0 when allowed, else the seconds until a token is back.

        The bucket holds up to `burst` tokens and gains one every `interval` seconds. A concurrent spender makes
        the guarded UPDATE match nothing, and we read again (bounded)."""
        insert = insert_for(self.s)
        self.s.execute(
            insert(RateLimitBucket)
            .values(key=key, tokens=float(burst), updated_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        for _ in range(attempts):
            row = self.s.execute(
                select(RateLimitBucket.tokens, RateLimitBucket.updated_at).where(RateLimitBucket.key == key)
            ).one()
            stored: float = row.tokens
            elapsed = max(0.0, (now - row.updated_at).total_seconds())
            tokens = min(float(burst), stored + elapsed / interval)
            if tokens < 1.0:
                return float((1.0 - tokens) * interval)
            result = self.s.execute(
                update(RateLimitBucket)
                .where(
                    RateLimitBucket.key == key,
                    RateLimitBucket.updated_at == row.updated_at,
                    RateLimitBucket.tokens == row.tokens,
                )
                .values(tokens=tokens - 1.0, updated_at=max(now, row.updated_at))
            )
            if getattr(result, "rowcount", 0) == 1:
                return 0.0
        return interval  # heavy contention on one key: ask the caller to come back later
