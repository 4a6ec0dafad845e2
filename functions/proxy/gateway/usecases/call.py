"""A gateway call as the use cases see it: the partner path, the caller's body and content headers (never its
credentials), the fields a price rule reads, and the caller's Idempotency-Key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    partner: str
    method: str
    path: str  # after /proxy/<partner>: "" or "/..."
    query: str = ""  # raw, as sent
    args: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    fields: Mapping[str, Any] = field(default_factory=dict)
    readable: bool = True  # False: a body the price rules cannot read (not JSON or a form)
    idempotency_key: str | None = None
    request_id: str = ""
