"""Which database failures are worth retrying shortly: every one of them answers 503 with Retry-After, never 500."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from shared.errors import Conflict, DatabaseUnavailable


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
    if exc is not None and is_transient(exc):
        raise DatabaseUnavailable() from exc
    if isinstance(exc, IntegrityError):  # met by an autoflush: a concurrent writer got there first
        raise Conflict("The change conflicts with existing data.", code="conflict") from exc
