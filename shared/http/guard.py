"""PostgreSQL text cannot hold the NUL character (U+0000); SQLite can. So that both answer alike, and with a clear
4xx rather than a 500 from the driver wherever such text reaches a query, every handler runs behind this guard: a
path naming something with a NUL is not found (404), and a NUL in a query value the handler reads or in a JSON body
it takes is bad input (400)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from flask import Request, Response
from werkzeug.datastructures import ImmutableMultiDict

from shared.errors import InvalidInput, NotFound
from shared.http import body
from shared.http.router import Handler

NUL = "\x00"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _refuse(where: str) -> InvalidInput:
    return InvalidInput(f"{where} contains the NUL character (U+0000), which no field accepts", code="nul_character")


def _clean(name: str, value: str) -> str:
    if NUL in value or NUL in name:
        raise _refuse(f"The query parameter {name!r}")
    return value


class CheckedArgs(ImmutableMultiDict[str, str]):
    """The query string, refusing a NUL in whatever a handler reads (a parameter it ignores does no harm)."""

    def __getitem__(self, key: str) -> str:
        return _clean(key, super().__getitem__(key))

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        for value in super().getlist(key):
            _clean(key, value)
        return super().getlist(key) if type is None else super().getlist(key, type)

    def lists(self) -> Iterator[tuple[str, list[str]]]:
        for key, values in super().lists():
            yield key, [_clean(key, v) for v in values]


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _check_body(request: Request, max_body: int) -> None:
    if request.method not in BODY_METHODS:
        return
    # Bounded whatever the transfer encoding; the handler's own, smaller bound applies when it reads the body.
    raw = body.read(request, max_body)
    if b"\\u0000" not in raw:  # in valid JSON a NUL can only be written escaped
        return
    if _holds_nul(body.json_of(request, max_body)):
        raise _refuse("The body")


def guarded(handler: Handler, max_body: int = body.MAX_ANY_BODY) -> Handler:
    """`handler` behind the checks; `max_body` bounds the body it may take (the gateway's are larger)."""

    @functools.wraps(handler)
    def checked(request: Request, deps: Any, **path: str) -> Response:
        if any(NUL in value for value in path.values()):
            raise NotFound("Nothing is named with a NUL character", code="not_found")
        request.args = CheckedArgs(request.args)
        _check_body(request, max_body)
        return handler(request, deps, **path)

    return checked
