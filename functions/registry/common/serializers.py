"""Rows to wire shapes every area answers with (versions, nodes, publishers, tokens, users), with the field names of
the service we replace."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from functions.registry.common.nodes import NodePage
from shared import releases, wire
from shared.db.models import PersonalAccessToken, User
from shared.http.responses import dumps
from shared.ports import BlobStore
from shared.repositories.views import VIEWS_KEPT, NodeRecord, NodeView, PublisherRecord, VersionRecord, VersionView


def version(v: VersionRecord, blobs: BlobStore, *, include_reason: bool = True) -> dict[str, Any]:
    return {
        "id": v.id,
        "node_id": v.node_id,
        "version": v.version,
        "createdAt": wire.time(v.created_at),
        "changelog": v.changelog,
        "dependencies": list(v.pip_dependencies or []),
        # Only a released archive is public: pending, flagged, banned and deleted versions have none.
        "downloadUrl": releases.download_url(blobs, v),
        "deprecated": bool(v.deprecated),
        "deprecation_reason": v.deprecation_reason or "",
        "status": wire.version_status(v.status),
        "status_reason": v.status_reason if include_reason else "",
        "supported_os": list(v.supported_os or []),
        "supported_accelerators": list(v.supported_accelerators or []),
        "supported_comfyui_version": v.supported_comfyui_version,
        "supported_comfyui_frontend_version": v.supported_comfyui_frontend_version,
        "comfy_node_extract_status": v.comfy_node_extract_status,
        "archive_sha256": v.archive_sha256,
        "archive_size": v.archive_size,
    }


def publisher(p: PublisherRecord, *, members: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "website": p.website,
        "support": p.support_email,
        "source_code_repo": p.source_code_repo,
        "logo": p.logo_url,
        "createdAt": wire.time(p.created_at),
        "status": wire.publisher_status(p.status),
        # Members are shown by name and role only: the old service leaked their e-mail addresses.
        "members": [{"user": {"name": m.user.name or ""}, "role": m.permission} for m in p.permissions]
        if members
        else [],
    }
    return data


def node(
    n: NodeRecord,
    latest: VersionRecord | None,
    blobs: BlobStore,
    *,
    with_publisher: bool = False,
    include_reason: bool = True,
    translations: bool = False,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": n.id,
        "name": n.name,
        "description": n.description,
        "category": n.category,
        "author": n.author,
        "license": n.license,
        "icon": n.icon_url,
        "banner_url": n.banner_url,
        "repository": n.repository_url,
        "tags": list(n.tags or []),
        "rating": (n.total_star / n.total_review) if n.total_review else 0,
        "downloads": n.total_install,
        "github_stars": n.github_stars or 0,
        "status": wire.node_status(n.status),
        "status_detail": n.status_detail,
        "supported_os": list(n.supported_os or []),
        "supported_accelerators": list(n.supported_accelerators or []),
        "supported_comfyui_version": n.supported_comfyui_version,
        "supported_comfyui_frontend_version": n.supported_comfyui_frontend_version,
        "created_at": wire.time(n.created_at),
    }
    if latest is not None:
        data["latest_version"] = version(latest, blobs, include_reason=include_reason)
    if with_publisher:
        data["publisher"] = publisher(n.publisher, members=False)
    if translations:
        data["translations"] = dict(n.translations or {})
    return data


def node_page(page: NodePage, blobs: BlobStore, *, with_publisher: bool, translations: bool = False) -> dict[str, Any]:
    nodes: list[Any] = []
    for n in page.nodes:
        latest = page.latest.get(n.id)
        if isinstance(n, NodeView) and (latest is None or isinstance(latest, VersionView)):
            nodes.append(_listed(n, latest, blobs, with_publisher, translations))  # type: ignore[arg-type]  # by identity
        else:  # an ORM row may change under us: written afresh
            nodes.append(
                node(n, latest, blobs, with_publisher=with_publisher, include_reason=False, translations=translations)
            )
    return wire.node_page(nodes, page.total, page.page, page.limit)


@lru_cache(maxsize=VIEWS_KEPT)
def _listed(
    n: NodeView, latest: VersionView | None, blobs: BlobStore, with_publisher: bool, translations: bool
) -> orjson.Fragment:
    """A listed node as written, kept per view: a view is immutable and read rows share theirs (views._views), so a
    node unchanged since the last page that showed it costs a lookup instead of its serialisation."""
    data = node(n, latest, blobs, with_publisher=with_publisher, include_reason=False, translations=translations)
    # Copied to its exact size: orjson's own bytes keep their writing buffer (8 KB or more for a 1.5 KB node).
    return orjson.Fragment(bytes(memoryview(dumps(data))))


def token(t: PersonalAccessToken, *, value: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "createdAt": wire.time(t.created_at),
        "expiresAt": wire.time(t.expires_at),
        "lastUsedAt": wire.time(t.last_used_at),
        "node_ids": list(t.node_ids or []),
        "token": value if value is not None else f"{t.token_prefix}***",
    }


def user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email or "",
        "name": u.name or "",
        "isApproved": u.is_approved,
        "isAdmin": u.is_admin,
    }
