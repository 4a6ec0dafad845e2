"""What the fault tests share: row and event counts, a fingerprint of the whole database, to prove that a failed or
refused call wrote nothing, and a switch that makes the Nth SQL statement fail as a lost database would."""

from __future__ import annotations

import hashlib
import sqlite3
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event, func, inspect, select, text

from shared.bootstrap import Container
from shared.db.engine import make_engine
from shared.db.models import Node, NodeVersion, OutboxEvent
from tests.support import RegistryClient


def count(api: RegistryClient, model: type[Node] | type[NodeVersion], **where: str) -> int:
    with api.container.sessions() as s:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(s.scalar(query) or 0)


def events(api: RegistryClient, type_: str) -> int:
    """How many events of this type were written to the outbox."""
    with api.container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == type_)) or 0)


def snapshot(container: Container) -> dict[str, str]:
    """Every table's row count and a hash of its rows, in an order that does not depend on the database."""
    out = {}
    with container.engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            # The names come from the database's own catalogue, quoted.
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()  # noqa: S608
            digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
            out[name] = f"{len(rows)} rows, {digest[:16]}"
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """The tables whose fingerprint differs, with both fingerprints."""
    return {t: (before.get(t), after.get(t)) for t in sorted(set(before) | set(after)) if before.get(t) != after.get(t)}


class Outage:
    """While entered, the `fail_at`-th SQL statement on the engine (counting from 1) meets a dead database.

    On PostgreSQL its server process is terminated from another connection (pg_terminate_backend) just before the
    statement goes out, so the failure is the driver's own; SQLite, which has no server, gets the driver's I/O
    error. `fired` tells whether the statement was reached."""

    def __init__(self, engine: Engine, url: str, fail_at: int) -> None:
        self.engine = engine
        self.url = url
        self.fail_at = fail_at
        self.count = 0
        self.fired = False

    def __enter__(self) -> Outage:
        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        self.count += 1
        if self.count != self.fail_at:
            return
        self.fired = True
        if self.engine.dialect.name != "postgresql":
            raise sqlite3.OperationalError("disk I/O error (injected)")
        pid = conn.connection.dbapi_connection.info.backend_pid
        killer = make_engine(self.url)
        try:
            with killer.connect() as other:
                # Waits (up to 5 s) until the server process is gone, so the statement surely meets a dead socket.
                other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        finally:
            killer.dispose()
