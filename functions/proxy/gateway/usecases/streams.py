"""Answers passed on as they arrive (server-sent events, audio, video): each piece goes to the caller as soon as the
partner sends it, and the call is settled when the stream ends, however it ends. One the partner broke off is
released, and so is a newline-delimited JSON stream that reported an `error` event (Sonilo's generation failed).
Otherwise the charge is the usage the events reported (OpenAI's `response.completed`, or a top-level `usage`), else
the request's price: a binary result the partner produced, or events whose usage never came (the caller left before
it, and the partner bills us for the work all the same)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from functions.proxy.catalog.model import Operation
from functions.proxy.gateway.usecases.answers import is_ndjson
from shared.proxy.ports import PartnerAnswer, PartnerUnreachable

log = logging.getLogger(__name__)

Settle = Callable[[int | None], None]


class EventUsage:
    """Reads `data:` lines of an event stream for the last `usage` reported (OpenAI's `response.completed`; Anthropic's
    `message_delta`, whose model only `message_start` named: kept, so the usage is priced at that model's rates)."""

    def __init__(self) -> None:
        self._partial = b""
        self.usage: Any = None
        self._model: Any = None

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
        if not isinstance(event, dict):
            return
        message = event.get("message")
        if isinstance(message, dict) and message.get("model"):
            self._model = message["model"]
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("usage"), dict):
            self.usage = response
        elif isinstance(event.get("usage"), dict):  # image streams report it at the top
            self.usage = event if event.get("model") or self._model is None else {**event, "model": self._model}


class LineErrors:
    """Reads a newline-delimited JSON stream for an event of type `error` (the generation failed midway)."""

    def __init__(self) -> None:
        self._partial = b""
        self.failed = False

    def feed(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            self._read(line)

    def end(self) -> None:
        self._read(self._partial)
        self._partial = b""

    def _read(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        if isinstance(event, dict) and event.get("type") == "error":
            self.failed = True


def relay(answer: PartnerAnswer, op: Operation, estimate: int, events: bool, on_end: Settle) -> Iterator[bytes]:
    lines = LineErrors() if events and is_ndjson(answer.headers) else None
    usage = EventUsage() if events and lines is None else None
    broke = False
    try:
        for chunk in answer.chunks():
            if usage is not None:
                usage.feed(chunk)
            if lines is not None:
                lines.feed(chunk)
            yield chunk
    except PartnerUnreachable as exc:
        broke = True
        log.warning("a streamed answer broke off: %s", exc)
    finally:
        if lines is not None:
            lines.end()
        try:
            answer.close()  # the caller left: this cancels the upstream call
        finally:
            try:
                failed = broke or (lines is not None and lines.failed)
                on_end(None if failed else _cost(op, estimate, usage, answer.headers))
            except Exception:  # the stream is over for the caller; the holds sweep settles what this could not
                log.exception("a streamed call could not be settled")


def _cost(op: Operation, estimate: int, usage: EventUsage | None, headers: Mapping[str, str]) -> int:
    """The usage the events reported; for bytes, what the partner's headers report (Reve's credits); else the
    request's price."""
    if op.price is None:
        return estimate
    if usage is None:
        actual = op.price.actual(None, headers, estimate)
    elif usage.usage is None:
        return estimate
    else:
        actual = op.price.actual(usage.usage, {}, estimate)
    return estimate if actual is None else actual
