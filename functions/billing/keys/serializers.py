"""The keys area's wire shapes. A key is shown by its display prefix; the clear key only once, at creation."""

from __future__ import annotations

from typing import Any

from functions.billing.keys.usecases import NewKey, Verified
from shared import wire
from shared.db.billing_models import ApiKey


def key(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "description": k.description,
        "key_prefix": k.prefix,
        "created_at": wire.time(k.created_at),
        "last_used_at": wire.time(k.last_used_at),
        "expires_at": wire.time(k.expires_at),
    }


def keys(rows: list[ApiKey]) -> dict[str, Any]:
    return {"api_keys": [key(k) for k in rows]}


def created(new: NewKey) -> dict[str, Any]:
    return {"api_key": {**key(new.key), "plaintext_key": new.plaintext}}


def verified(v: Verified) -> dict[str, Any]:
    out: dict[str, Any] = {
        "valid": True,
        "firebase_uid": v.customer.id,
        "email": v.customer.email or "",
        "name": v.customer.name or "",
        "is_admin": v.is_admin,
        "key_name": v.key.name,
        "key_description": v.key.description,
    }
    if v.customer_keys:
        out["customer_api_keys"] = [
            {"key_hash": k.digest, "key_prefix": k.prefix, "name": k.name} for k in v.customer_keys
        ]
    return out


def admin_token(new: NewKey) -> dict[str, Any]:
    return {"token": new.plaintext, "expires_at": wire.time(new.key.expires_at)}
