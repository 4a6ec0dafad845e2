"""Router requests read: the page arguments, the run's JSON object (a key given twice is refused), its
Idempotency-Key, and an `If-None-Match` list."""

from __future__ import annotations

from typing import Any

from flask import Request

from shared.errors import InvalidInput
from shared.http import body as bodies

MAX_BODY = 64 * 1024 * 1024
IDEMPOTENCY_KEY_MAX = 255


def page_args(request: Request) -> tuple[str | None, int]:
    cursor = request.args.get("cursor")
    raw = request.args.get("limit", "")
    try:
        limit = int(raw) if raw.strip() else 0
    except ValueError:
        raise InvalidInput("limit must be an integer.", code="invalid_limit") from None
    return cursor, limit


def run_body(request: Request) -> dict[str, Any]:
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise InvalidInput("The body must be the model's JSON input (application/json).", code="unsupported_body")
    value = bodies.parse_json(bodies.read(request, MAX_BODY), unique_keys=True)
    if not isinstance(value, dict):
        raise InvalidInput("The body must be a JSON object.", code="malformed_json")
    return value


def idempotency_key(request: Request) -> str | None:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidInput(
            f"An Idempotency-Key is 1 to {IDEMPOTENCY_KEY_MAX} printable characters.", code="invalid_key"
        )
    return key or None


def if_none_match(request: Request) -> list[str]:
    """The tags the caller holds, compared weakly (RFC 9110): `W/` dropped; `*` matches anything."""
    header = request.headers.get("If-None-Match") or ""
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]
