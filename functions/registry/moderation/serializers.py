"""Moderation's answers beyond the shared node and version shapes: the audit log."""

from __future__ import annotations

from typing import Any

from functions.registry.common import serializers
from functions.registry.moderation.usecases import AuditPage, VersionPage
from shared import wire
from shared.db.models import AuditEntry
from shared.ports import BlobStore


def entry(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "actor_id": e.actor_id,
        "action": e.action,
        "target_type": e.target_type,
        "target_id": e.target_id,
        "reason": e.reason,
        "details": dict(e.details or {}),
        "createdAt": wire.time(e.created_at),
    }


def audit_page(result: AuditPage) -> dict[str, Any]:
    return {
        "entries": [entry(e) for e in result.entries],
        "total": result.total,
        "page": result.page,
        "limit": result.limit,
        "totalPages": wire.total_pages(result.total, result.limit),
    }


def version_page(result: VersionPage, blobs: BlobStore, *, with_reason: bool) -> dict[str, Any]:
    return {
        "page": result.page,
        "pageSize": result.size,
        "total": result.total,
        "totalPages": wire.total_pages(result.total, result.size),
        "versions": [serializers.version(v, blobs, include_reason=with_reason) for v in result.versions],
    }
