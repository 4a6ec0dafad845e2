"""Reading query strings and JSON bodies into clear 400s instead of crashes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

from flask import Request
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from shared import wire
from shared.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


MAX_BODY_BYTES = 1_000_000


def json_body(request: Request, model: type[M], *, max_bytes: int = MAX_BODY_BYTES) -> M:
    if (request.content_length or 0) > max_bytes:
        raise InvalidInput(f"The body is larger than {max_bytes} bytes", code="too_large")
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"Malformed JSON body: {exc}", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise InvalidInput("The JSON body must be an object", code="malformed_json")
    return model.model_validate(data)


def integer(
    args: MultiDict[str, str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    clamp: bool = True,
) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"Query parameter {name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        if not clamp:
            raise InvalidInput(f"Query parameter {name} must be at least {minimum}")
        value = default
    if maximum is not None and value > maximum:
        if not clamp:
            raise InvalidInput(f"Invalid {name}: {value}. The maximum allowed is {maximum}.")
        value = maximum
    return value


def boolean(args: MultiDict[str, str], name: str, default: bool | None = None) -> bool | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise InvalidInput(f"Query parameter {name} must be true or false, got {raw!r}")


def strings(args: MultiDict[str, str], name: str) -> list[str]:
    """A repeated parameter (`a=1&a=2`); comma-separated values are split too."""
    values: list[str] = []
    for raw in args.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def timestamp(args: MultiDict[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        return wire.parse_time(raw)
    except ValueError as exc:
        raise InvalidInput(f"Query parameter {name} must be an RFC 3339 time, got {raw!r}") from exc


def uuid_param(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidInput(f"{what} must be a UUID, got {value!r}", code="invalid_id") from exc
