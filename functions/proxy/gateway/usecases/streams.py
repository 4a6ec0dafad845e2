"""Answers passed on as they arrive (server-sent events, audio, video): each piece goes to the caller as soon as the
partner sends it, and the call is settled when the stream ends, however it ends. A stream the partner completed is
charged; one the partner broke off is released; one the caller left is charged what was used (the usage the events
reported so far, or for a binary result the price of the request, which the partner produced)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from functions.proxy.catalog.model import Operation
from functions.proxy.catalog.prices import Tokens
from shared.proxy.ports import PartnerAnswer, PartnerUnreachable

log = logging.getLogger(__name__)

Settle = Callable[[int | None], None]


class EventUsage:
    """Reads `data:` lines of an event stream for the last `usage` reported (OpenAI's `response.completed`)."""

    def __init__(self) -> None:
        self._partial = b""
        self.usage: Any = None

    def feed(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                self._read(line[5:].strip())

    def _read(self, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            return
        response = event.get("response") if isinstance(event, dict) else None
        if isinstance(response, dict) and isinstance(response.get("usage"), dict):
            self.usage = response


def relay(answer: PartnerAnswer, op: Operation, estimate: int, events: bool, on_end: Settle) -> Iterator[bytes]:
    usage = EventUsage() if events else None
    finished = broke = False
    try:
        for chunk in answer.chunks():
            if usage is not None:
                usage.feed(chunk)
            yield chunk
        finished = True
    except PartnerUnreachable as exc:
        broke = True
        log.warning("a streamed answer broke off: %s", exc)
    finally:
        answer.close()  # the caller left: this cancels the upstream call
        on_end(None if broke else _cost(op, estimate, usage, finished))


def _cost(op: Operation, estimate: int, usage: EventUsage | None, finished: bool) -> int | None:
    if usage is None:
        return estimate if finished or not isinstance(op.price, Tokens) else None
    if usage.usage is None or op.price is None:
        return None
    return op.price.actual(usage.usage, {}, estimate)
