"""Reading query strings and JSON bodies into clear 400s instead of crashes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import TypeVar

from flask import Request
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from shared import wire
from shared.errors import InvalidInput
from shared.http import body

M = TypeVar("M", bound=BaseModel)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def json_body(request: Request, model: type[M], *, max_bytes: int = body.MAX_BODY_BYTES) -> M:
    data = body.json_of(request, max_bytes)
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


def flag(args: MultiDict[str, str], name: str) -> bool:
    """An optional switch: absent or empty is off."""
    return boolean(args, name, False) or False


# A list parameter names a few values (operating systems, accelerators, statuses, sort keys); each value becomes a
# condition of the query, and SQLite refuses past ~1,000 of them, so the bound is part of the contract.
MAX_LIST_ITEMS = 32
MAX_ITEM_LENGTH = 256


def strings(
    args: MultiDict[str, str], name: str, *, max_items: int = MAX_LIST_ITEMS, max_length: int = MAX_ITEM_LENGTH
) -> list[str]:
    """A repeated parameter (`a=1&a=2`); comma-separated values are split too. More than `max_items` values, or a
    value longer than `max_length`, is a 400 that says so."""
    values: list[str] = []
    for raw in args.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
        if len(values) > max_items:
            raise InvalidInput(f"Query parameter {name} takes at most {max_items} values", code="too_many_values")
    if any(len(v) > max_length for v in values):
        raise InvalidInput(f"A value of query parameter {name} is longer than {max_length} characters")
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


MAX_DURATION = timedelta(days=3650)
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """A Go duration (`90s`, `30m`, `1h30m`, `1.5h`, `0`); anything else, or a negative one, is InvalidInput."""
    if text == "0":
        return timedelta(0)
    invalid = InvalidInput(f"Invalid duration {text!r}: use a Go duration such as 90s, 30m or 24h")
    if not text:
        raise invalid
    seconds, pos = 0.0, 0
    while pos < len(text):
        part = _DURATION_PART.match(text, pos)
        if part is None:
            raise invalid
        seconds += float(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        pos = part.end()
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInput(f"Duration {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def duration(args: MultiDict[str, str], name: str) -> timedelta | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_duration(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"Query parameter {name}: {exc.message}", code="invalid_duration") from exc
