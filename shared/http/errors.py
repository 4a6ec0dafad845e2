"""The error tree mapped to status codes and the `{"error", "message"}` body, once."""

from __future__ import annotations

import logging

from flask import Response
from pydantic import ValidationError

from shared import errors
from shared.db.transient import is_transient
from shared.http.responses import json_response

log = logging.getLogger(__name__)

STATUS: dict[type[errors.AppError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.PaymentRequired: 402,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.MethodNotAllowed: 405,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.BadGateway: 502,
    errors.GatewayTimeout: 504,
}


def body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def status_of(exc: errors.AppError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def to_response(exc: Exception) -> Response:
    if isinstance(exc, errors.AppError):
        response = json_response(body(exc.code, exc.message), status_of(exc))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        if isinstance(exc, errors.MethodNotAllowed):
            response.headers["Allow"] = ", ".join(exc.allowed)
        if exc.error_type:
            response.headers["X-Comfy-Error-Type"] = exc.error_type
        response.headers.update(exc.extra_headers)
        return response
    if isinstance(exc, ValidationError):
        return json_response(body("invalid_input", validation_message(exc)), 400)
    if is_transient(exc):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return to_response(errors.DatabaseUnavailable())
    log.exception("unhandled error")
    return json_response(body("internal", "Internal Server Error"), 500)
