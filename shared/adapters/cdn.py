"""CdnInvalidator without a CDN: the local stack and tests, which have none in front of them, record what would have
been invalidated (the most recent first-in-first-out window of it)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence


class RecordingCdnInvalidator:
    def __init__(self, keep: int = 1000) -> None:
        self.paths: deque[str] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def invalidate(self, paths: Sequence[str]) -> None:
        with self._lock:
            self.paths.extend(paths)
