"""A pooled PostgreSQL connection that the server closed while it sat idle is replaced as it is handed out, without
a ping on every checkout (shared/db/engine.py: Pool.ping_after_idle)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from shared.db.engine import Pool, make_engine


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    killer = make_engine(url)
    try:
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    finally:
        killer.dispose()


@pytest.fixture
def server(postgres_server: str | None) -> str:
    if postgres_server is None:
        pytest.skip("PostgreSQL is not available here (see the reason printed at the start)")
    return postgres_server


def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(server: str) -> None:
    engine = make_engine(server, pool=Pool(size=1, overflow=0, ping_after_idle=0.0))
    try:
        dead = _pid(engine)
        _terminate(server, dead)
        assert _pid(engine) != dead  # the request got a fresh connection, not an error
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(server: str) -> None:
    engine = make_engine(server, pool=Pool(size=1, overflow=0, ping_after_idle=3600.0))
    try:
        dead = _pid(engine)
        _terminate(server, dead)
        with pytest.raises(DBAPIError) as failure:  # what the ping spares a request after a long idle
            _pid(engine)
        assert failure.value.connection_invalidated
        assert _pid(engine) != dead  # and the pool recovers on the next checkout
    finally:
        engine.dispose()
