"""Request bodies: read as a bounded stream whatever the transfer encoding (a chunked body has no Content-Length to
refuse up front), and parsed as JSON with every failure a 400, never a 500."""

from __future__ import annotations

import io
import json
import math
from typing import Any

from flask import Request

from shared.errors import InvalidInput

MAX_BODY_BYTES = 1_000_000
# The largest body any handler takes (a comfy-nodes extraction report): nothing reads more than this.
MAX_ANY_BODY = 8_000_000
# Deeper JSON is never a real request, and walking it would recurse past Python's stack.
MAX_JSON_DEPTH = 64
_CHUNK = 1 << 16
_RAW = "comfy.body"
_PARSED = "comfy.json"


class _Capped(io.RawIOBase):
    """At most `cap` bytes of `inner`, then end of stream."""

    def __init__(self, inner: Any, cap: int) -> None:
        self._inner, self._left = inner, cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        chunk = self._inner.read(min(len(buffer), self._left))
        n = len(chunk)
        buffer[:n] = chunk
        self._left -= n
        return n


def cap_stream(request: Request, cap: int = MAX_ANY_BODY) -> None:
    """Let nothing read more than MAX_ANY_BODY + 1 bytes of this request's body. functions-framework reads every
    request's body into memory after the answer (so that the connection stays in step); capped, it reads at most
    that much, and the server discards the rest of the socket in small pieces."""
    request.stream = io.BufferedReader(_Capped(request.stream, cap + 1))


def too_large(max_bytes: int) -> InvalidInput:
    return InvalidInput(f"The body is larger than {max_bytes} bytes", code="too_large")


def read(request: Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, at most `max_bytes` of it read and kept (a larger one is refused having read one byte past
    the bound); later calls get the same bytes."""
    cached = request.environ.get(_RAW)
    if cached is None:
        declared = request.content_length
        if declared is not None and declared > max_bytes:
            _discard(request)
            raise too_large(max_bytes)
        # request.stream is what the server delivered: the declared length, or a chunked body decoded to its end.
        stream, chunks, size = request.stream, [], 0
        while size <= max_bytes and (chunk := stream.read(min(_CHUNK, max_bytes + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            _discard(request)
            raise too_large(max_bytes)
        cached = request.environ[_RAW] = b"".join(chunks)
    if len(cached) > max_bytes:
        raise too_large(max_bytes)
    return bytes(cached)


def _discard(request: Request) -> None:
    """A refused body is read no further by anyone here (the server drops what is left on the socket)."""
    request.stream = io.BytesIO()


def parse_json(raw: bytes | str, *, unique_keys: bool = False) -> Any:
    """The JSON value of `raw`; malformed text, numbers Python will not convert or that are not finite (and the
    NaN and Infinity that Python's parser would accept), and nesting deeper than MAX_JSON_DEPTH are InvalidInput.
    With `unique_keys`, so is an object naming a key twice (which one a partner would read is not defined)."""
    pairs = _unique if unique_keys else None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite, object_pairs_hook=pairs)
    except RecursionError as exc:
        raise InvalidInput(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels", code="malformed_json") from exc
    # JSONDecodeError, UnicodeDecodeError, integers of more than 4,300 digits, and numbers that are not finite
    except ValueError as exc:
        raise InvalidInput(f"Malformed JSON body: {exc}", code="malformed_json") from exc
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidInput(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels", code="malformed_json")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        twice = next(k for i, (k, _) in enumerate(pairs) if any(k == other for other, _ in pairs[:i]))
        raise ValueError(f"the key {twice[:60]!r} is given twice")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def json_of(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The body's JSON value ({} for an empty body), parsed once per request."""
    raw = read(request, max_bytes)
    if _PARSED not in request.environ:
        request.environ[_PARSED] = parse_json(raw) if raw.strip() else {}
    return request.environ[_PARSED]


def _deeper_than(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
