"""What an instance remembers about its listings between requests, valid for one catalog tag: each listing's number
of matches and where its pages start, so that a page the answer cache does not hold costs a seek of `limit` rows
instead of a count of every match and a walk of an OFFSET.

A listing is a filter and an order (never a page or a size). Its entry holds the total, and for row offsets it has
seen the sort key of the row just before (a page at that offset is `WHERE key > that ... LIMIT n`); search keeps the
first ids of its ranking instead. An entry belongs to the tag (catalog epoch, this instance's generation) it was made
under and is dropped, with every other, when the tag moves: a commit here, or the epoch read from the database at most
every READ_CACHE_CHECK_SECONDS. Entries also expire after `max_age`, since download counts (an order, not a filter)
change without an event. Nothing here is an answer: every page is still read from the database."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

Tag = tuple[int, int]
MAX_STARTS = 20_000  # page starts remembered per listing (a 600,000-node catalogue at 30 a page)


@dataclass
class Listing:
    tag: Tag
    expires: float
    total: int | None = None
    ranked: list[str] = field(default_factory=list)  # search: the first ids of the ranking
    _offsets: list[int] = field(default_factory=list)
    _keys: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    def start_before(self, offset: int) -> tuple[int, tuple[Any, ...] | None]:
        """The nearest remembered start at or before `offset`: (its offset, the key of the row just before it);
        (0, None) when none is known: the listing's start."""
        i = bisect.bisect_right(self._offsets, offset)
        if i == 0:
            return 0, None
        known = self._offsets[i - 1]
        return known, self._keys[known]

    def remember(self, offset: int, key: tuple[Any, ...]) -> None:
        if offset <= 0 or offset in self._keys or len(self._offsets) >= MAX_STARTS:
            return
        self._keys[offset] = key
        bisect.insort(self._offsets, offset)


class PageMemo:
    def __init__(
        self,
        tag: Callable[[], Tag | None],
        *,
        capacity: int = 512,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tag = tag
        self._capacity = capacity
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[Hashable, Listing] = {}
        self._lock = threading.Lock()

    def listing(self, key: Hashable) -> Listing | None:
        """The entry for this listing under the current tag (a fresh one if none), or None while the tag cannot be
        read (nothing is then remembered or trusted)."""
        tag = self._tag()
        if tag is None:
            return None
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry.tag == tag and now < entry.expires:
            return entry
        with self._lock:
            if any(e.tag != tag for e in (entry, next(iter(self._entries.values()), None)) if e is not None):
                self._entries.clear()  # the catalog changed: nothing remembered holds any more
            self._entries.pop(key, None)
            while len(self._entries) >= self._capacity:
                self._entries.pop(next(iter(self._entries)))  # the oldest made
            entry = self._entries[key] = Listing(tag, now + self._max_age)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
