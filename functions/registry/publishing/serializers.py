"""Publishing's answers beyond the shared shapes: the publish call's, and what the scanner judged."""

from __future__ import annotations

from typing import Any

from functions.registry.common import serializers
from functions.registry.publishing.usecases.scans import ArchiveLink
from functions.registry.publishing.usecases.versions import Published
from shared import wire
from shared.db.models import NodeVersion
from shared.ports import BlobStore


def published(result: Published, blobs: BlobStore) -> dict[str, Any]:
    return {"signedUrl": result.upload_url, "node_version": serializers.version(result.version, blobs)}


def scan(row: NodeVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "status": wire.version_status(row.status),
        "status_reason": row.status_reason,
        "archive_sha256": row.archive_sha256,
        "archive_size": row.archive_size,
        "scannedAt": wire.time(row.scanned_at),
        "findings": list(row.scan_findings or []),
    }


def archive(link: ArchiveLink) -> dict[str, Any]:
    return {
        "version": link.version.version,
        "status": wire.version_status(link.version.status),
        "archive_sha256": link.version.archive_sha256,
        "downloadUrl": link.url,
        "expiresAt": wire.time(link.expires_at),
    }
