"""Download counts, tallied per instance and written in batches.

A popular node installed a thousand times a second would otherwise cost a thousand UPDATEs of one row. The tally is
written once `flush_every` seconds have passed since its oldest unwritten download: by a timer, or by the next
install if the timer has not run (Cloud Functions may hold back the CPU between requests), and when the instance
stops (atexit: Cloud Run sends SIGTERM and gunicorn exits its workers cleanly). One flush runs at a time. Each node's
count is its own short transaction, so a flush never holds one row while waiting for another (no lock cycle with a
ban or a publisher change that touches many nodes), and a failure keeps exactly what was not written for the next
flush. With `flush_every` 0 each download is written as it happens."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session

from shared.db.transient import is_transient
from shared.errors import DatabaseUnavailable
from shared.repositories.catalog import Nodes

log = logging.getLogger(__name__)


class DownloadCounter:
    def __init__(
        self, sessions: Callable[[], Session], flush_every: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sessions = sessions
        self._flush_every = flush_every
        self._clock = clock
        self._pending: Counter[str] = Counter()
        self._due: float | None = None  # when the oldest unwritten download must be written
        self._lock = threading.Lock()  # guards the tally
        self._writing = threading.Lock()  # one flush at a time
        self._armed = False  # a timer is scheduled
        if flush_every > 0:
            atexit.register(self.flush)

    def add(self, node_id: str) -> None:
        if self._flush_every <= 0:
            try:
                self._write_one(node_id, 1)
            except Exception as exc:
                if is_transient(exc):
                    raise DatabaseUnavailable() from exc
                raise
            return
        with self._lock:
            self._pending[node_id] += 1
            if self._due is None:
                self._due = self._clock() + self._flush_every
                self._arm()
            overdue = self._clock() >= self._due
        if overdue:
            self.flush(wait=False)

    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def flush(self, wait: bool = True) -> int:
        """Write the tally; returns how many downloads were written. Without `wait`, returns 0 at once when
        another flush is running (it will write what is there, or leave it due for the next)."""
        if not self._writing.acquire(blocking=wait):
            return 0
        try:
            with self._lock:
                batch, self._pending, self._due = self._pending, Counter(), None
            written = 0
            for node_id in sorted(batch):
                try:
                    self._write_one(node_id, batch[node_id])
                except Exception as exc:  # noqa: BLE001 - any failure keeps the unwritten rest for the next flush
                    unwritten = {n: c for n, c in batch.items() if n >= node_id}
                    log.warning("downloads: %d counts kept for the next flush: %s", sum(unwritten.values()), exc)
                    self._keep(unwritten)
                    break
                written += batch[node_id]
            return written
        finally:
            self._writing.release()

    def _keep(self, unwritten: dict[str, int]) -> None:
        with self._lock:
            self._pending.update(unwritten)
            if self._due is None:
                self._due = self._clock() + self._flush_every
            self._arm()

    def _arm(self) -> None:
        """Schedule the timer unless one is (called with the tally's lock held)."""
        if not self._armed:
            self._armed = True
            timer = threading.Timer(self._flush_every, self._on_timer)
            timer.daemon = True
            timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._armed = False
        self.flush(wait=False)
        with self._lock:  # still due: a flush was running when the timer fired, or this one failed
            if self._due is not None:
                self._arm()

    def _write_one(self, node_id: str, count: int) -> None:
        with self._sessions() as session:
            Nodes(session).count_downloads(node_id, count)
            session.commit()
