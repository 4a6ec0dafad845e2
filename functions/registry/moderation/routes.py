"""Bans, admin edits and the audit log (deployed as `registry-moderation`)."""

from __future__ import annotations

from functions.registry.moderation import handlers as h
from shared.http.router import Route

ROUTES = [
    Route("POST", "/publishers/<publisher_id>/ban", h.ban_publisher, "BanPublisher"),
    Route("POST", "/publishers/<publisher_id>/unban", h.unban_publisher, "UnbanPublisher"),
    Route("POST", "/publishers/<publisher_id>/nodes/<node_id>/ban", h.ban_node, "BanPublisherNode"),
    Route("POST", "/publishers/<publisher_id>/nodes/<node_id>/unban", h.unban_node, "UnbanPublisherNode"),
    Route("PUT", "/admin/nodes/<node_id>/versions/<version_number>", h.update_version, "adminUpdateNodeVersion"),
    Route("POST", "/admin/nodes", h.create_node, "adminCreateNode"),
    Route("PUT", "/admin/nodes/<node_id>", h.update_node, "adminUpdateNode"),
    Route("GET", "/admin/audit-log", h.audit_log, "listAuditLog"),
    Route("GET", "/admin/nodeversions", h.all_versions, "AdminListAllNodeVersions"),
]
