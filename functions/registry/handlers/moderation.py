"""Bans, unbans and the admin endpoints; every one needs an admin (`users.is_admin` or the `admin` claim)."""

from __future__ import annotations

from typing import Any

from flask import Request, Response

from functions.registry import serializers
from functions.registry.handlers.common import caller, container
from functions.registry.handlers.reads import page_args
from functions.registry.schemas_admin import AdminNodeIn, ModerationIn, VersionStatusIn
from functions.registry.usecases import moderation
from shared import wire
from shared.db.models import AuditEntry
from shared.http import params
from shared.http.responses import json_response, no_content
from shared.http.router import Route
from shared.repositories.moderation import AuditFilter


def _reason(request: Request) -> str:
    return (params.json_body(request, ModerationIn).reason or "").strip()


def ban_publisher(request: Request, publisher_id: str) -> Response:
    identity = caller(request)
    moderation.ban_publisher(container().uow(), container().blobs, identity, publisher_id, _reason(request))
    return no_content()


def unban_publisher(request: Request, publisher_id: str) -> Response:
    identity = caller(request)
    moderation.unban_publisher(container().uow(), identity, publisher_id, _reason(request))
    return no_content()


def ban_node(request: Request, publisher_id: str, node_id: str) -> Response:
    identity = caller(request)
    moderation.ban_node(container().uow(), container().blobs, identity, publisher_id, node_id, _reason(request))
    return no_content()


def unban_node(request: Request, publisher_id: str, node_id: str) -> Response:
    identity = caller(request)
    moderation.unban_node(container().uow(), identity, publisher_id, node_id, _reason(request))
    return no_content()


def update_version(request: Request, node_id: str, version_number: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, VersionStatusIn)
    c = container()
    row = moderation.set_version_status(c.uow(), c.blobs, identity, node_id, version_number, body)
    return json_response(serializers.version(row, container().blobs))


def create_node(request: Request) -> Response:
    identity = caller(request)
    row = moderation.admin_create_node(container().uow(), identity, params.json_body(request, AdminNodeIn))
    return json_response(serializers.node(row, None, container().blobs), 201)


def update_node(request: Request, node_id: str) -> Response:
    identity = caller(request)
    row = moderation.admin_update_node(container().uow(), identity, node_id, params.json_body(request, AdminNodeIn))
    return json_response(serializers.node(row, None, container().blobs))


def _entry(e: AuditEntry) -> dict[str, Any]:
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


def audit_log(request: Request) -> Response:
    identity = caller(request)
    args = request.args
    page, limit = page_args(args)
    f = AuditFilter(
        action=args.get("action") or None,
        target_type=args.get("target_type") or None,
        target_id=args.get("target_id") or None,
        actor_id=args.get("actor_id") or None,
    )
    result = moderation.audit_log(container().uow(), identity, f, page, limit)
    return json_response(
        {
            "entries": [_entry(e) for e in result.entries],
            "total": result.total,
            "page": result.page,
            "limit": result.limit,
            "totalPages": wire.total_pages(result.total, result.limit),
        }
    )


ROUTES: list[Route] = [
    Route("POST", "/publishers/<publisher_id>/ban", ban_publisher, "BanPublisher"),
    Route("POST", "/publishers/<publisher_id>/unban", unban_publisher, "UnbanPublisher"),
    Route("POST", "/publishers/<publisher_id>/nodes/<node_id>/ban", ban_node, "BanPublisherNode"),
    Route("POST", "/publishers/<publisher_id>/nodes/<node_id>/unban", unban_node, "UnbanPublisherNode"),
    Route("PUT", "/admin/nodes/<node_id>/versions/<version_number>", update_version, "adminUpdateNodeVersion"),
    Route("POST", "/admin/nodes", create_node, "adminCreateNode"),
    Route("PUT", "/admin/nodes/<node_id>", update_node, "adminUpdateNode"),
    Route("GET", "/admin/audit-log", audit_log, "listAuditLog"),
]
