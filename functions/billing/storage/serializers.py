"""Customer storage's wire shape."""

from __future__ import annotations

from typing import Any

from functions.billing.storage.usecases import StorageGrant
from shared import wire


def grant(g: StorageGrant) -> dict[str, Any]:
    out: dict[str, Any] = {
        "download_url": g.download_url,
        "existing_file": g.existing,
        "expires_at": wire.time(g.expires_at),
    }
    if g.upload_url is not None:
        out["upload_url"] = g.upload_url
    return out
