"""Engines and sessions, built once per process from the database URL."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, foreign_keys: bool = True) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


@dataclass(frozen=True)
class Pool:
    """Connections per process: `size` kept open, `overflow` more when busy, and how long a request waits for one
    before it is answered 503 (never an open-ended stall)."""

    size: int = 5
    overflow: int = 5
    timeout: float = 10.0
    # A PostgreSQL connection left idle this long is pinged before use (the server, a proxy or a failover may have
    # closed it); one used a moment ago is not: a ping on every checkout cost a round trip per request.
    ping_after_idle: float = 10.0


def make_engine(url: str, *, foreign_keys: bool = True, pool: Pool = Pool()) -> Engine:
    """`foreign_keys=False` is for migrations: SQLite rebuilds altered tables, which referencing rows would block."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    sizes: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            sizes = {}  # an in-memory database lives in one connection per thread (SingletonThreadPool)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **sizes)
        event.listen(engine, "connect", lambda conn, rec: _sqlite_pragmas(conn, rec, foreign_keys=foreign_keys))
        return engine
    engine = create_engine(url, **sizes)
    _ping_when_idle(engine, pool.ping_after_idle)
    parsed = make_url(url)
    if (parsed.username or "").endswith(".iam") and not parsed.password:
        _use_iam_tokens(engine)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Check a pooled connection idle for `after` seconds as it is handed out; a dead one is replaced by a fresh
    connection (the pool retries on DisconnectionError), so the request never meets it."""

    @event.listens_for(engine, "checkin")
    def _idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after:
            return  # new, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("an idle connection was closed") from exc
        if not alive:
            raise DisconnectionError("an idle connection was closed")


def _use_iam_tokens(engine: Engine) -> None:
    """Cloud SQL IAM database authentication: each new connection logs in with a fresh OAuth token."""
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/sqlservice.login"])
    lock = threading.Lock()

    @event.listens_for(engine, "do_connect")
    def _token(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        with lock:
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
            cparams["password"] = credentials.token


@lru_cache(maxsize=8)
def engine_for(url: str, pool: Pool = Pool()) -> Engine:
    return make_engine(url, pool=pool)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
