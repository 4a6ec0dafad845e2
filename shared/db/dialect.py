"""The INSERT of the session's own dialect: PostgreSQL's and SQLite's both have ON CONFLICT (DO NOTHING, DO UPDATE),
which the generic one lacks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_for(session: Session) -> Any:
    """`insert_for(session)(Model)`: an INSERT with `on_conflict_do_nothing` and `on_conflict_do_update`."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
