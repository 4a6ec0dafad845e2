"""Engines and sessions, built once per process from the database URL."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
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
    engine = create_engine(url, pool_pre_ping=True, **sizes)
    parsed = make_url(url)
    if (parsed.username or "").endswith(".iam") and not parsed.password:
        _use_iam_tokens(engine)
    return engine


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
