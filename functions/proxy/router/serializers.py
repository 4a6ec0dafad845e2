"""The Router's answers on the wire: catalog entries and pages, the model document's bytes with their strong tag,
and a run's answer (the partner's own output, as the gateway answers it)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.proxy.router.models import RouterModel
from functions.proxy.router.usecases.catalog import Page

SCHEMA_CACHE = "private, max-age=300, must-revalidate"


def entry(m: RouterModel) -> dict[str, Any]:
    return {
        "id": m.id,
        "provider": m.provider,
        "model": m.model,
        "billing": {"charges_on_policy_rejection": m.charges_on_policy_rejection},
    }


def detail(m: RouterModel, base_url: str) -> dict[str, Any]:
    found = entry(m)
    if m.input_schema is not None and base_url.startswith("https://"):  # the contract allows absolute https only
        found["input_schema_url"] = f"{base_url.rstrip('/')}/v2/models/{m.id}/openapi.json"
    return found


def page(p: Page) -> dict[str, Any]:
    out: dict[str, Any] = {"data": [entry(m) for m in p.models], "has_more": p.has_more, "limit": p.limit}
    if p.next_cursor is not None:
        out["next_cursor"] = p.next_cursor
    return out


def document_bytes(doc: dict[str, Any]) -> tuple[bytes, str]:
    """The document's bytes (the same in every process: keys sorted) and their strong ETag."""
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return data, f'"{hashlib.sha256(data).hexdigest()}"'
