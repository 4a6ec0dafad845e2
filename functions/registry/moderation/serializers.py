"""Moderation's answers beyond the shared node and version shapes: the audit log."""

from __future__ import annotations

from typing import Any

from functions.registry.moderation.usecases import AuditPage
from shared import wire
from shared.db.models import AuditEntry


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
