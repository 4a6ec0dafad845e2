"""A gateway request read into the `Call` the use cases take: the partner path, the caller's body and content headers
(never its credentials), the fields a price rule reads, and the caller's Idempotency-Key."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Request
from werkzeug.formparser import parse_form_data

from functions.proxy.gateway.usecases.call import Call
from shared.errors import InvalidInput
from shared.http import body as bodies

# Caller headers that reach the partner: what describes the body and the answer wanted, nothing that identifies us or
# the caller (Authorization, X-API-KEY, cookies, Comfy-*, Idempotency-Key stay here).
FORWARDED = ("content-type", "accept", "accept-language")
FORWARDED_PREFIXES = ("stability-",)
MAX_BODY = 64 * 1024 * 1024
IDEMPOTENCY_KEY_MAX = 255


def call_from(request: Request, partner: str, rest: str) -> Call:
    raw = bodies.read(request, MAX_BODY) if request.method in ("POST", "PUT", "PATCH") else b""
    headers = {
        name: _printable(name, value)
        for name, value in request.headers.items()
        if name.lower() in FORWARDED or name.lower().startswith(FORWARDED_PREFIXES)
    }
    key = (request.headers.get("Idempotency-Key") or "").strip()[:IDEMPOTENCY_KEY_MAX] or None
    return Call(
        partner=partner,
        method=request.method,
        path=f"/{rest}" if rest else "",
        query=request.query_string.decode("latin-1"),
        args={k: values[0] for k, values in request.args.lists() if values},  # lists() refuses a NUL (400)
        headers=headers,
        body=raw,
        fields=_fields(request, raw),
        readable=not raw or _priceable(request.mimetype),
        idempotency_key=key,
        request_id=request.environ.get("comfy.request_id") or uuid.uuid4().hex,
    )


def _priceable(mimetype: str) -> bool:
    json_kind = mimetype == "application/json" or mimetype.endswith("+json")
    return json_kind or mimetype in ("multipart/form-data", "application/x-www-form-urlencoded")


def _printable(name: str, value: str) -> str:
    """A header we pass on must be printable ASCII, as HTTP wants it (anything else is refused here, not by the
    HTTP client after credit was held)."""
    if not value.isascii() or not value.isprintable():
        raise InvalidInput(f"The {name} header must be printable ASCII.", code="invalid_header")
    return value


def _fields(request: Request, raw: bytes) -> Mapping[str, Any]:
    """What a price rule reads: the JSON object, or the form's text fields; {} for anything else (a price rule then
    charges its defaults)."""
    mimetype = request.mimetype
    if not raw:
        return {}
    if mimetype == "application/json" or mimetype.endswith("+json"):
        value = bodies.parse_json(raw)  # malformed, too deep or not finite: 400 before anything is held
        return value if isinstance(value, dict) else {}
    if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        environ = {
            **request.environ,
            "wsgi.input": io.BytesIO(raw),
            "CONTENT_LENGTH": str(len(raw)),
        }
        _, form, _ = parse_form_data(environ)
        return {k: v for k, v in form.items()}
    return {}
