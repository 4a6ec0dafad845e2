"""The error tree mapped to status codes and the `{"error", "message"}` body, once."""

from __future__ import annotations

import logging

from flask import Response
from pydantic import ValidationError

from shared import errors
from shared.db.transient import is_missing_schema, is_transient
from shared.http.responses import json_response

log = logging.getLogger(__name__)

STATUS: dict[type[errors.AppError], int] = {
    errors.Unprocessable: 422,
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
    if is_missing_schema(exc):
        log.error("database not migrated: %s", exc.__class__.__name__)
        return to_response(errors.DatabaseNotReady())
    if is_transient(exc):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return to_response(errors.DatabaseUnavailable())
    log.exception("unhandled error")
    return json_response(body("internal", "Internal Server Error"), 500)


# The Comfy Router's buckets (`RouterErrorType`), by the error's kind; an error's own `error_type` wins.
ROUTER_TYPES: dict[type[errors.AppError], str] = {
    errors.InvalidInput: "invalid_input",
    errors.Unauthenticated: "unauthorized",
    errors.Forbidden: "forbidden",
    errors.NotFound: "model_not_found",
    errors.PaymentRequired: "insufficient_credits",
    errors.MethodNotAllowed: "invalid_input",
    errors.Unavailable: "service_unavailable",
    errors.BadGateway: "provider_error",
    errors.GatewayTimeout: "provider_timeout",
}
ROUTER_CODES = {
    "idempotency_in_flight": "concurrency_limit_exceeded",
    "concurrency_limit_exceeded": "concurrency_limit_exceeded",
    "committed_spend_exceeded": "concurrency_limit_exceeded",
    "too_many_in_flight": "concurrency_limit_exceeded",
}


def router_type(exc: errors.AppError) -> str:
    if exc.error_type:
        return exc.error_type
    if exc.code in ROUTER_CODES:
        return ROUTER_CODES[exc.code]
    if isinstance(exc, errors.RateLimited):
        return "rate_limited"
    if isinstance(exc, errors.Conflict):
        return "invalid_input"  # a key used for another request, or spent: a new key is the answer
    return next((ROUTER_TYPES[c] for c in type(exc).__mro__ if c in ROUTER_TYPES), "internal_error")


def to_router_response(exc: Exception) -> Response:
    """The Comfy Router's error contract: `{"detail", "error_type"}` (a 422's `detail` is the list of failures), the
    bucket repeated on `X-Comfy-Error-Type`, with the same statuses and headers as every other answer."""
    if not isinstance(exc, errors.AppError):
        response = to_response(exc)
        kind = "service_unavailable" if response.status_code == 503 else "internal_error"
        if response.status_code == 400:
            kind = "invalid_input"
        payload: dict[str, object] = {"detail": "The request could not be served.", "error_type": kind}
        if response.status_code == 400:
            payload["detail"] = (response.get_json(silent=True) or {}).get("message", payload["detail"])
        answer = json_response(payload, response.status_code)
        answer.headers["X-Comfy-Error-Type"] = kind
        return answer
    response = to_response(exc)
    kind = router_type(exc)
    body_value: dict[str, object] = {"detail": exc.message, "error_type": kind}
    if isinstance(exc, errors.Unprocessable):
        body_value = {"detail": exc.details}
    response.set_data(json_response(body_value).get_data())
    response.headers["X-Comfy-Error-Type"] = kind
    return response
