"""The public reads' answers beyond a single node or version (those are in common/serializers.py)."""

from __future__ import annotations

from typing import Any

from functions.registry.common import serializers
from functions.registry.reads.usecases import BulkItem, VersionPage
from shared import wire
from shared.ports import BlobStore


def version_page(result: VersionPage, blobs: BlobStore, *, with_reason: bool) -> dict[str, Any]:
    return {
        "total": result.total,
        "versions": [serializers.version(v, blobs, include_reason=with_reason) for v in result.versions],
        "page": result.page,
        "pageSize": result.size,
        "totalPages": wire.total_pages(result.total, result.size),
    }


def bulk(items: list[BulkItem], blobs: BlobStore) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {
            "identifier": {"node_id": item.node_id, "version": item.version},
            "status": item.status,
        }
        if item.row is not None:
            entry["node_version"] = serializers.version(item.row, blobs)
        if item.error is not None:
            entry["error_message"] = item.error
        out.append(entry)
    return {"node_versions": out}
