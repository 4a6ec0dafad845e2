"""The catalog epoch: bumped by every commit that emits an event, read by instances to drop cached reads."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.models import CatalogEpoch

EPOCH_ROW = 1


def bump(session: Session) -> None:
    # Taken last in the transaction (just before commit), so the row lock is held for no longer than the commit.
    result = session.execute(
        update(CatalogEpoch).where(CatalogEpoch.id == EPOCH_ROW).values(value=CatalogEpoch.value + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # the row was lost: put it back rather than go blind
        session.add(CatalogEpoch(id=EPOCH_ROW, value=1))


def current(session: Session) -> int:
    return int(session.scalar(select(CatalogEpoch.value).where(CatalogEpoch.id == EPOCH_ROW)) or 0)
