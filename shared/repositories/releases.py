"""The release feed: one note per project and version (GET /releases, POST /releases)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db.dialect import insert_for
from shared.db.models import ReleaseNote
from shared.db.types import utcnow


@dataclass(frozen=True)
class ReleaseIn:
    project: str
    version: str  # canonical
    sort_key: str
    attention: str
    content: str
    published_at: datetime
    github_release_id: int | None


class ReleaseNotes:
    def __init__(self, session: Session) -> None:
        self.s = session

    def put(self, note: ReleaseIn) -> ReleaseNote:
        """Insert the note, or replace the one stored for its project and version (one statement: two deliveries of
        the same release at once leave one row)."""
        now = utcnow()
        values = {**note.__dict__, "created_at": now, "updated_at": now}
        changed = {k: v for k, v in values.items() if k not in ("project", "version", "created_at")}
        stmt = insert_for(self.s)(ReleaseNote).values(**values)
        self.s.execute(stmt.on_conflict_do_update(index_elements=["project", "version"], set_=changed))
        found = self.s.scalar(
            select(ReleaseNote)
            .where(ReleaseNote.project == note.project, ReleaseNote.version == note.version)
            .execution_options(populate_existing=True)
        )
        assert found is not None
        return found

    def remove(self, project: str, version: str) -> bool:
        result = self.s.execute(
            delete(ReleaseNote).where(ReleaseNote.project == project, ReleaseNote.version == version)
        )
        return bool(getattr(result, "rowcount", 0))

    def feed(self, project: str, from_sort_key: str | None, limit: int) -> Sequence[ReleaseNote]:
        """The project's notes, newest version first; from `from_sort_key` upwards when given."""
        stmt = select(ReleaseNote).where(ReleaseNote.project == project)
        if from_sort_key is not None:
            stmt = stmt.where(ReleaseNote.sort_key >= from_sort_key)
        return self.s.scalars(stmt.order_by(ReleaseNote.sort_key.desc()).limit(limit)).all()
