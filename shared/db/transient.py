"""Which database failures are worth retrying shortly: every one of them answers 503 with Retry-After, never 500."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from shared.errors import Conflict, DatabaseNotReady, DatabaseUnavailable


def is_missing_schema(exc: BaseException) -> bool:
    """The tables are not there: SQLite's `no such table` (a file never migrated, or made empty by connecting to a
    path where none was) or `unable to open database file`, PostgreSQL's undefined_table (42P01)."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) == "42P01":
        return True
    text = str(exc.orig)
    return isinstance(exc, OperationalError) and ("no such table" in text or "unable to open database file" in text)


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection, a failover, a lock or serialization conflict (the drivers raise those as
    OperationalError), or no free connection in the pool within its timeout."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def end_unit_of_work(session: Session, exc: BaseException | None) -> None:
    """Leave a unit of work: roll back what was not committed (keeping loaded rows readable), close the session, and
    turn a lost database into DatabaseUnavailable and a unique key taken by a concurrent writer into Conflict."""
    try:
        if exc is not None:
            session.rollback()
    finally:
        session.close()
    if exc is not None and is_missing_schema(exc):
        raise DatabaseNotReady() from exc
    if exc is not None and is_transient(exc):
        raise DatabaseUnavailable() from exc
    if isinstance(exc, IntegrityError):  # met by an autoflush: a concurrent writer got there first
        raise Conflict("The change conflicts with existing data.", code="conflict") from exc
