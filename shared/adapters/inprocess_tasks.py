"""The task queue of the local stack and the tests: a task runs in-process, right away, by the handler subscribed to
its kind. A failure is logged and leaves the work where the sweep finds it (as Cloud Tasks' retries would). A task
asked for later (`delay_seconds`) is only recorded: its work waits in the database, where the local stack's timer
(or a test) finds it when due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

TaskHandler = Callable[[Mapping[str, Any]], None]


class InProcessTaskQueue:
    def __init__(self) -> None:
        self._handlers: dict[str, TaskHandler] = {}
        self._lock = threading.Lock()
        self.enqueued: list[tuple[str, str]] = []  # (kind, key), for what tests check

    def subscribe(self, kind: str, handler: TaskHandler) -> None:
        with self._lock:
            self._handlers[kind] = handler

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, key: str, delay_seconds: float = 0) -> None:
        with self._lock:
            handler = self._handlers.get(kind)
            self.enqueued.append((kind, key))
        if handler is None or delay_seconds > 0:
            return
        try:
            handler(payload)
        except Exception:
            log.exception("in-process task %s (%s) failed; it stays for the sweep", kind, key)
