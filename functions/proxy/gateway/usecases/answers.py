"""What the gateway answers: the partner's status, content headers and body (bytes read whole, or pieces streamed as
they arrive), plus ours: the request id everywhere, the credits a charge used."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Partner headers the caller may see: what describes the body, when to retry, and the partner's own metering and
# request ids that ComfyUI's nodes read. Nothing else (no cookies, no partner account data).
PASSED = ("content-type", "content-disposition", "retry-after", "x-request-id")
PASSED_PREFIXES = ("x-reve-",)
CREDITS_USED = "X-Comfy-Credits-Used"


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterator[bytes] = b""

    @property
    def streamed(self) -> bool:
        return not isinstance(self.body, bytes)


def passed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in headers.items()
        if name.lower() in PASSED or name.lower().startswith(PASSED_PREFIXES)
    }


def credits(micros: int, credits_per_usd: Decimal) -> str:
    """The header's value: credits as ComfyUI shows them (USD x the conversion rate), to four places."""
    value = (Decimal(micros) * credits_per_usd / Decimal(1_000_000)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return format(value.normalize(), "f")


def decoded(raw: bytes, headers: Mapping[str, str]) -> Any:
    """The JSON value of a partner body that says it is JSON (None otherwise, or when it does not parse)."""
    kind = (headers.get("content-type") or "").lower()
    if "json" not in kind and not raw.lstrip().startswith((b"{", b"[")):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


EVENT_KINDS = ("text/event-stream", "application/x-ndjson")  # server-sent events; Sonilo's newline-delimited JSON


def is_events(headers: Mapping[str, str]) -> bool:
    """An answer of events, relayed as they arrive and priced when it ends (by what the events say)."""
    return (headers.get("content-type") or "").split(";")[0].strip().lower() in EVENT_KINDS


def is_ndjson(headers: Mapping[str, str]) -> bool:
    return (headers.get("content-type") or "").split(";")[0].strip().lower() == "application/x-ndjson"


def is_json(headers: Mapping[str, str]) -> bool:
    kind = (headers.get("content-type") or "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json") or not kind
