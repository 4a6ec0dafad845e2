"""The index records, built from database rows only: an event never decides what a record says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared import wire
from shared.db.models import Node, NodeVersion

ANY = "*"  # in the filter-only lists: the node declares nothing, so it runs anywhere


def node_record(node: Node, latest: NodeVersion, comfy_nodes: Sequence[str]) -> dict[str, Any]:
    """A `nodes_index` record: the old service's fields (the registry web app reads them from the hits), plus the
    publisher, rating and compatibility the web app facets and ranks on."""
    supported_os = list(node.supported_os or [])
    accelerators = list(node.supported_accelerators or [])
    return {
        "objectID": node.id,
        "id": node.id,
        "name": node.name,
        "description": node.description,
        "category": node.category,
        "author": node.author,
        "license": node.license,
        "repository_url": node.repository_url,
        "icon_url": node.icon_url,
        "banner_url": node.banner_url,
        "tags": list(node.tags or []),
        "tags_admin": list(node.tags_admin or []),
        "publisher_id": node.publisher_id,
        "publisher": {"id": node.publisher.id, "name": node.publisher.name},
        "total_install": node.total_install,
        "total_star": node.total_star,
        "total_review": node.total_review,
        "rating": (node.total_star / node.total_review) if node.total_review else 0,
        "status": node.status,
        "status_detail": node.status_detail,
        "latest_version": latest.version,
        "latest_version_id": latest.id,
        "latest_version_status": latest.status,
        "latest_version_created_at": wire.time(latest.created_at),
        "comfy_nodes": list(comfy_nodes),
        "supported_os": supported_os,
        "supported_accelerators": accelerators,
        "supported_comfyui_version": node.supported_comfyui_version,
        "supported_comfyui_frontend_version": node.supported_comfyui_frontend_version,
        "os_filter": supported_os or [ANY],
        "accelerator_filter": accelerators or [ANY],
        "create_time": wire.time(node.created_at),
        "update_time": wire.time(node.changed_at),
    }


def version_record(version: NodeVersion) -> dict[str, Any]:
    """A `node_versions_index` record."""
    return {
        "objectID": version.id,
        "id": version.id,
        "node_id": version.node_id,
        "version": version.version,
        "changelog": version.changelog,
        "pip_dependencies": list(version.pip_dependencies or []),
        "deprecated": bool(version.deprecated),
        "status": version.status,
        "comfy_node_extract_status": version.comfy_node_extract_status,
        "supported_os": list(version.supported_os or []),
        "supported_accelerators": list(version.supported_accelerators or []),
        "supported_comfyui_version": version.supported_comfyui_version,
        "supported_comfyui_frontend_version": version.supported_comfyui_frontend_version,
        "create_time": wire.time(version.created_at),
        "update_time": wire.time(version.updated_at),
    }
