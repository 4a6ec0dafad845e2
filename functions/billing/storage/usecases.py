"""Customer storage: a short-lived signed upload URL for a partner call's input, under the customer's own prefix.
With the file's SHA-256 the object is addressed by its content, so a file already uploaded is reused, not sent
again."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.billing.callers import Caller
from shared.db.types import utcnow
from shared.errors import InvalidInput
from shared.ports import BlobStore

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StorageGrant:
    upload_url: str | None  # None when the file is already there
    download_url: str
    expires_at: datetime
    existing: bool


@dataclass(frozen=True)
class StorageLimits:
    content_types: list[str]
    max_bytes: int
    ttl_seconds: int


def create_upload(
    store: BlobStore,
    caller: Caller,
    file_name: str,
    content_type: str | None,
    file_hash: str | None,
    limits: StorageLimits,
) -> StorageGrant:
    kind = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if kind not in limits.content_types:
        raise InvalidInput(
            f"content_type {kind!r} is not accepted; use one of: {', '.join(limits.content_types)}.",
            code="unsupported_content_type",
        )
    path = f"{caller.customer_id}/{_folder(file_hash)}/{_safe_name(file_name)}"
    expires_at = utcnow() + timedelta(seconds=limits.ttl_seconds)
    if file_hash and store.exists(path):
        return StorageGrant(None, store.signed_download_url(path), expires_at, existing=True)
    upload = store.signed_upload_url(path, kind, limits.max_bytes)
    return StorageGrant(upload, store.signed_download_url(path), expires_at, existing=False)


def _folder(file_hash: str | None) -> str:
    if not file_hash:
        return uuid.uuid4().hex
    digest = file_hash.lower().removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidInput("file_hash must be the file's SHA-256, in hex.", code="invalid_file_hash")
    return digest


def _safe_name(file_name: str) -> str:
    name = _UNSAFE.sub("_", file_name.rsplit("/", 1)[-1]).strip("._")[:200]
    if not name:
        raise InvalidInput("file_name must name a file.", code="invalid_file_name")
    return name
