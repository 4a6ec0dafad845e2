"""A per-instance cache of public read answers, kept in step with the catalog epoch.

An answer is stored with the tag that was current before it was computed: the database's catalog epoch (bumped by
every commit that emits an event, on any instance) and this instance's own generation (bumped when this instance
commits such a change). It is served only while both are unchanged and it is younger than `max_age`, so a change made
here is seen at once and one made elsewhere within `check_every` seconds. Changes that emit no event (download
counts) show when the answer expires."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

Tag = tuple[int, int]
MAX_KEY_LENGTH = 2048  # longer query strings are answered, not stored
FILL_WAIT_SECONDS = 10.0  # how long a request waits for another computing the same answer before computing it too


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    status: int
    mimetype: str
    tag: Tag
    expires: float
    subject: str = ""  # what the answer is about, for work a hit must still do (an install counts a download)
    etag: str | None = None  # the HTTP entity tag of `body`, computed once when stored


class ReadCache:
    def __init__(
        self,
        epoch: Callable[[], int],
        *,
        max_age: float,
        check_every: float,
        capacity: int,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._epoch = epoch
        self._max_age = max_age
        self._check_every = check_every
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: dict[str, CachedAnswer] = {}
        self._lock = threading.Lock()
        self._epoch_lock = threading.Lock()
        self._db_epoch: int | None = None
        self._next_check = 0.0
        self._local = 0
        self._filling: dict[str, threading.Event] = {}
        self._bytes = 0

    @property
    def enabled(self) -> bool:
        return self._max_age > 0

    def tag(self) -> Tag | None:
        """The current tag, reading the database's epoch at most every `check_every` seconds; None while it cannot
        be read (the cache is then bypassed, never trusted)."""
        # One thread reads the epoch; the others go on with the last value unless there is none yet.
        if self._clock() >= self._next_check and self._epoch_lock.acquire(blocking=self._db_epoch is None):
            try:
                if self._clock() >= self._next_check:
                    self._refresh()
            finally:
                self._epoch_lock.release()
        epoch = self._db_epoch
        return None if epoch is None else (epoch, self._local)

    def _refresh(self) -> None:
        try:
            value: int | None = self._epoch()
        except Exception as exc:  # noqa: BLE001 - a database outage must not fail reads the database may answer
            log.warning("read cache: the catalog epoch could not be read (%s); bypassing the cache", exc)
            value = None
        if value != self._db_epoch:
            with self._lock:
                self._entries.clear()
                self._bytes = 0
                self._db_epoch = value
        self._next_check = self._clock() + self._check_every

    def get(self, key: str) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.tag != self.tag() or self._clock() >= entry.expires:
            return None
        return entry

    def put(
        self, key: str, tag: Tag, body: bytes, status: int, mimetype: str, subject: str = "", etag: str | None = None
    ) -> None:
        # One answer may take at most a sixteenth of the budget, so a few huge pages cannot push out everything.
        if not self.enabled or len(key) > MAX_KEY_LENGTH or len(body) > self._max_bytes // 16:
            return
        # A copy of exactly its size: orjson's bytes keep their writing buffer (a 1.5 KB answer held 8 KB or more),
        # which the byte budget would not see.
        body = bytes(memoryview(body))
        entry = CachedAnswer(body, status, mimetype, tag, self._clock() + self._max_age, subject, etag)
        with self._lock:
            if tag != (self._db_epoch, self._local):
                return  # computed before a change this instance already knows of
            if (old := self._entries.pop(key, None)) is not None:
                self._bytes -= len(old.body)
            while self._entries and (len(self._entries) >= self._capacity or self._bytes + len(body) > self._max_bytes):
                self._bytes -= len(self._entries.pop(next(iter(self._entries))).body)  # the oldest stored
            self._entries[key] = entry
            self._bytes += len(body)

    @contextmanager
    def filling(self, key: str) -> Iterator[bool]:
        """Around computing the answer for `key`; yields whether this request leads. Concurrent misses of one key
        (a cold start, just after a change) wait for the leader, then find its answer; if it stored none (an
        error, a change meanwhile) or took too long, they compute in parallel, never one after another."""
        with self._lock:
            done = self._filling.get(key)
            leading = done is None
            if done is None:
                done = self._filling[key] = threading.Event()
        if not leading:
            done.wait(FILL_WAIT_SECONDS)
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                del self._filling[key]
            done.set()

    def invalidate(self) -> None:
        """This instance committed a change: nothing stored before it may be served again."""
        with self._lock:
            self._local += 1
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes
