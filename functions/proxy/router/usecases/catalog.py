"""The Router's catalog, read: pages of model ids behind an opaque cursor (the last id served, sealed with the
catalog's digest, so a cursor from another catalog build is refused rather than silently skipping or repeating),
one model's entry, and its standalone OpenAPI document (input enforced, output descriptive)."""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from functions.proxy.router.models import BY_ID, MODEL_MAX, MODELS, PROVIDER_MAX, RouterModel, valid_segment
from shared.errors import Forbidden, InvalidInput, NotFound

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
CURSOR_MAX = 512
CATALOG = hashlib.sha256("\n".join(sorted(BY_ID)).encode()).hexdigest()[:16]
PERMISSIVE = {"type": "object", "additionalProperties": True}


class NotEnabled(Forbidden):
    error_type = "not_enabled"


@dataclass(frozen=True)
class Page:
    models: list[RouterModel]
    has_more: bool
    limit: int
    next_cursor: str | None


def require_enabled(enabled: bool) -> None:
    if not enabled:
        raise NotEnabled("Comfy Router is not enabled for this account yet.", code="not_enabled")


def page(cursor: str | None, limit: int) -> Page:
    size = MAX_LIMIT if limit > MAX_LIMIT else (limit if limit >= 1 else DEFAULT_LIMIT)
    ordered = sorted(MODELS, key=lambda m: m.id)
    if cursor is not None:
        after = _opened(cursor)
        ordered = [m for m in ordered if m.id > after]
    served = ordered[:size]
    more = len(ordered) > size
    return Page(served, more, size, _sealed(served[-1].id) if more else None)


def find(provider: str, model: str) -> RouterModel:
    if not valid_segment(provider, PROVIDER_MAX) or not valid_segment(model, MODEL_MAX):
        raise InvalidInput("A model id is two lowercase segments: {provider}/{model}.", code="invalid_model_id")
    found = BY_ID.get(f"{provider}/{model}")
    if found is None:
        near = difflib.get_close_matches(f"{provider}/{model}", list(BY_ID), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(near)}?" if near else ""
        raise NotFound(f"No model {provider}/{model}.{hint}", code="model_not_found")
    return found


def document(m: RouterModel) -> dict[str, Any]:
    """The model's own OpenAPI document: what POST accepts (the schema the call is validated against) and what it
    answers (described where authored, else any bytes)."""
    authored_in, authored_out = m.input_schema is not None, m.output_schema is not None
    output = {"application/json": {"schema": m.output_schema}} if authored_out else {"*/*": {"schema": {}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Comfy Router: {m.id}",
            "version": CATALOG,
            "description": (
                "The request body is ENFORCED: calls are validated against it before anything is charged or sent. "
                "The response is DESCRIPTIVE: the provider's own answer, passed on unchanged."
            ),
        },
        "x-comfy-router-model-id": m.id,
        "x-comfy-input-schema-authored": authored_in,
        "x-comfy-output-schema-authored": authored_out,
        "paths": {
            f"/v2/models/{m.id}": {
                "post": {
                    "operationId": f"run_{m.provider}_{m.model}".replace("-", "_").replace(".", "_"),
                    "summary": m.summary or m.id,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": m.input_schema or PERMISSIVE}},
                    },
                    "responses": {"200": {"description": "The provider's output.", "content": output}},
                }
            }
        },
    }


def _sealed(after: str) -> str:
    raw = json.dumps({"c": CATALOG, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _opened(cursor: str) -> str:
    bad = InvalidInput("The cursor is malformed or no longer valid; start again without one.", code="invalid_cursor")
    if not cursor or len(cursor) > CURSOR_MAX:
        raise bad
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(value, dict) or value.get("c") != CATALOG or not isinstance(value.get("a"), str):
        raise bad
    return str(value["a"])
