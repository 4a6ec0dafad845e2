"""Download counts, tallied per instance and written in batches.

A popular node installed a thousand times a second would otherwise cost a thousand UPDATEs of one row. The tally is
written when `flush_every` seconds have passed since its first download (by a timer), when the instance stops
(atexit: Cloud Run sends SIGTERM and gunicorn exits its workers cleanly) and whenever `flush` is called. A failed
write keeps the tally for the next attempt. With `flush_every` 0 each download is written as it happens."""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter
from collections.abc import Mapping

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.errors import Unavailable
from shared.repositories.catalog import Nodes

log = logging.getLogger(__name__)


class DownloadCounter:
    def __init__(self, sessions: sessionmaker[Session], flush_every: float) -> None:
        self._sessions = sessions
        self._flush_every = flush_every
        self._pending: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        if flush_every > 0:
            atexit.register(self.flush)

    def add(self, node_id: str) -> None:
        if self._flush_every <= 0:
            try:
                self._write({node_id: 1})
            except OperationalError as exc:
                raise Unavailable("The database is unavailable; try again shortly.", retry_after=5) from exc
            return
        with self._lock:
            self._pending[node_id] += 1
            self._schedule()

    def pending(self) -> int:
        return sum(self._pending.values())

    def flush(self) -> int:
        """Write the tally now; returns how many downloads were written (0 if the write failed: they are kept)."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not batch:
            return 0
        try:
            self._write(batch)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the tally; the next flush retries it
            log.warning("downloads: writing %d counts failed, kept for the next flush: %s", sum(batch.values()), exc)
            with self._lock:
                self._pending.update(batch)
                self._schedule()
            return 0
        return sum(batch.values())

    def _schedule(self) -> None:
        if self._timer is None and self._pending:
            self._timer = threading.Timer(self._flush_every, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def _write(self, counts: Mapping[str, int]) -> None:
        with self._sessions() as session:
            Nodes(session).count_downloads(counts)
            session.commit()
