"""Consumer idempotency: a consumer records each event id it applies, in the same transaction as the effect."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.db.models import AppliedEvent
from shared.db.types import utcnow


class AppliedEvents:
    def __init__(self, session: Session) -> None:
        self.s = session

    def first_time(self, consumer: str, event_id: str) -> bool:
        """Record the event; False if this consumer has applied it before (the caller then does nothing)."""
        insert = pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert
        # RETURNING tells whether a row went in (rowcount is -1 for this statement on psycopg).
        inserted = self.s.execute(
            insert(AppliedEvent)
            .values(consumer=consumer, event_id=event_id, applied_at=utcnow())
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(AppliedEvent.event_id)
        ).scalar()
        return inserted is not None
