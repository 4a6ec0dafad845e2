"""What a request's log line says about it, read from its headers alone: the trace it belongs to (`traceparent`, else
Google's `X-Cloud-Trace-Context`), the kind of caller (never the credential itself) and its URL with every secret in
the query replaced."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?$")
# Query parameters whose values are secrets: signed-URL signatures and credentials, tokens, keys, passwords.
_SECRET_PARAM = re.compile(r"(?i)(sig|signature|credential|token|key|secret|password|passwd|auth|code|session)")
_PUBLISH = re.compile(r"^/publishers/[^/]+/nodes/[^/]+/versions/?$")


class Headers(Protocol):
    """Request headers, looked up case-insensitively (werkzeug's `Headers`)."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class TraceParent:
    trace_id: str  # 32 lowercase hex digits
    span_id: str | None  # 16 lowercase hex digits
    sampled: bool


def trace_of(headers: Headers) -> TraceParent | None:
    """W3C `traceparent` when valid, else `X-Cloud-Trace-Context` (`TRACE/SPAN;o=1`, the span in decimal)."""
    if m := _TRACEPARENT.match((headers.get("traceparent") or "").strip().lower()):
        trace_id, span_id, flags = m.groups()
        if trace_id.strip("0") and span_id.strip("0"):
            return TraceParent(trace_id, span_id, bool(int(flags, 16) & 1))
    if m := _CLOUD_TRACE.match((headers.get("X-Cloud-Trace-Context") or "").strip()):
        trace_id, span, option = m.groups()
        if trace_id.strip("0"):
            span_id = f"{int(span):016x}" if span and 0 < int(span) < 2**64 else None
            return TraceParent(trace_id.lower(), span_id, option == "1")
    return None


def safe_url(path: str, query: str) -> str:
    """The path and query as logged: each secret-looking parameter's value replaced, the rest kept."""
    if not query:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, "REDACTED" if _SECRET_PARAM.search(k) else v) for k, v in pairs]
    return f"{path}?{urlencode(kept, safe='/:,')}"


def caller_kind(method: str, path: str, headers: Headers) -> str:
    """Who is calling, by the kind of credential the request carries (not whether it is valid): `admin_secret`,
    `api_key`, `ci_key`, `firebase_user`, `service_account` (a Google OIDC token), `bearer` (any other),
    `publisher_token` (a publish, whose token is in the body) or `anonymous`."""
    if headers.get("X-Comfy-Admin-Secret"):
        return "admin_secret"
    if headers.get("X-API-KEY"):
        return "api_key"
    if headers.get("X-CI-Key"):
        return "ci_key"
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return _bearer_kind(value.strip())
    if method == "POST" and _PUBLISH.match(path):
        return "publisher_token"
    return "anonymous"


def _bearer_kind(value: str) -> str:
    if value.startswith("comfyui-"):
        return "api_key"
    issuer = _unverified_issuer(value)
    if issuer.startswith("https://securetoken.google.com/"):
        return "firebase_user"
    if issuer in ("accounts.google.com", "https://accounts.google.com"):
        return "service_account"
    return "bearer"


def _unverified_issuer(token: str) -> str:
    """A JWT's `iss`, read without checking the signature: only to name the kind of caller in a log line."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return ""
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return ""
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else ""
