"""What callers send to the customers area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints
from werkzeug.datastructures import MultiDict

from functions.billing.common.schemas import Body
from shared.errors import InvalidInput
from shared.repositories.billing import CustomerFilters
from shared.wire import parse_time

Short = Annotated[str, StringConstraints(max_length=256)]
# Event types a `filter` may name at once (comma-separated).
MAX_EVENT_TYPES = 32


class CreateCustomerIn(Body):
    signup_source: Annotated[str, StringConstraints(max_length=64)] | None = None
    turnstile_token: Annotated[str, StringConstraints(max_length=4096)] | None = None


def filters(args: MultiDict[str, str]) -> CustomerFilters:
    values = {name: args.get(name, "") for name in ("email", "name", "stripe_id", "metronome_id")}
    for name, value in values.items():
        if len(value) > 320:
            raise InvalidInput(f"Query parameter {name} is too long (at most 320 characters).")
    return CustomerFilters(**values)


def event_types(args: MultiDict[str, str]) -> list[str]:
    types = [t.strip() for t in args.get("filter", "").split(",") if t.strip()]
    if len(types) > MAX_EVENT_TYPES or any(len(t) > 64 for t in types):
        raise InvalidInput(f"filter names at most {MAX_EVENT_TYPES} event types of at most 64 characters each.")
    return types


def window(args: MultiDict[str, str]) -> tuple[datetime | None, datetime | None]:
    bounds: list[datetime | None] = []
    for name in ("start_date", "end_date"):
        raw = args.get(name)
        if not raw:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_time(raw))
        except ValueError:
            raise InvalidInput(f"Query parameter {name} must be an RFC 3339 date-time, got {raw!r}.") from None
    start, end = bounds
    if start is not None and end is not None and end < start:
        raise InvalidInput("end_date is before start_date.")
    return start, end
