"""Which database failures are worth retrying shortly: every one of them answers 503 with Retry-After, never 500."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection, a failover, a lock or serialization conflict (the drivers raise those as
    OperationalError), or no free connection in the pool within its timeout."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
