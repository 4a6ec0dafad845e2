"""Request bodies of the moderation and admin endpoints. Unknown fields are ignored, as everywhere."""

from __future__ import annotations

from typing import Annotated

from flask import Request
from pydantic import AfterValidator, Field, StringConstraints
from werkzeug.datastructures import MultiDict

from functions.registry.common.schemas import Body, Compatibility, NodeIn, Tag, Text
from functions.registry.moderation.usecases import AdminNode, AuditQuery, VersionStatusChange
from shared import wire
from shared.errors import InvalidInput
from shared.http import params
from shared.repositories.ports import AdminVersionFilter
from shared.statuses import NodeStatus

Reason = Annotated[str, StringConstraints(max_length=2000)]
PublisherRef = Annotated[str, StringConstraints(max_length=100)]


def _version_status(value: str) -> str:
    short = wire.parse_version_status(value)
    if short is None:
        raise ValueError(
            f"unknown version status {value!r}; use a NodeVersionStatus name such as NodeVersionStatusActive"
        )
    return short


def _node_status(value: str) -> str:
    for short in NodeStatus:
        if value in (short, wire.node_status(short)):
            return short
    raise ValueError(f"unknown node status {value!r}")


class ModerationIn(Body):
    """Why a ban or an unban happens; the body itself is optional."""

    reason: Reason | None = None


class VersionStatusIn(Compatibility):
    # Parsed to the short (database) name; wire and short names are both accepted.
    status: Annotated[str, StringConstraints(max_length=64), AfterValidator(_version_status)]
    status_reason: Reason | None = None

    def command(self) -> VersionStatusChange:
        return VersionStatusChange(**self.model_dump())


class PublisherHandle(Body):
    id: PublisherRef | None = None


class AdminNodeIn(NodeIn):
    """A node as an admin writes it: the owner's fields plus the admin-only ones."""

    tags_admin: Annotated[list[Tag], Field(max_length=64)] | None = None
    status_detail: Text | None = None
    publisher_id: PublisherRef | None = None
    # The Node shape of the live service names the publisher as an object; either form is accepted.
    publisher: PublisherHandle | None = None
    # Only its current value is accepted: status changes go through ban and unban, which cascade and audit.
    status: Annotated[str, StringConstraints(max_length=64), AfterValidator(_node_status)] | None = None

    def command(self) -> AdminNode:
        return AdminNode(
            self.fields(),
            publisher_id=self.publisher_id or (self.publisher.id if self.publisher else None),
            tags_admin=self.tags_admin,
            status_detail=self.status_detail,
            status=self.status,
        )


def audit_query(args: MultiDict[str, str]) -> AuditQuery:
    return AuditQuery(
        action=args.get("action") or None,
        target_type=args.get("target_type") or None,
        target_id=args.get("target_id") or None,
        actor_id=args.get("actor_id") or None,
    )


def reason(request: Request) -> str:
    """Why a ban or an unban happens; the body itself is optional."""
    return (params.json_body(request, ModerationIn).reason or "").strip()


def admin_versions_query(args: MultiDict[str, str]) -> AdminVersionFilter:
    """GET /admin/nodeversions: `nodeId`, `statuses` (wire or short names), `status_reason`, `include_deleted`."""
    statuses = []
    for raw in params.strings(args, "statuses"):
        short = wire.parse_version_status(raw)
        if short is None:
            raise InvalidInput(f"Unknown version status {raw!r}", code="invalid_status")
        statuses.append(short)
    reason = args.get("status_reason") or ""
    if len(reason) > params.MAX_ITEM_LENGTH:
        raise InvalidInput(f"status_reason must be at most {params.MAX_ITEM_LENGTH} characters", code="too_long")
    return AdminVersionFilter(
        node_id=args.get("nodeId") or None,
        statuses=tuple(statuses),
        status_reason=reason,
        include_deleted=params.flag(args, "include_deleted"),
    )
