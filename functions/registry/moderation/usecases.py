"""Moderation by admins: bans and unbans, version statuses, admin node edits, and the audit log they leave.

Every action writes one audit entry (who, what, why, and what it changed) in the same transaction as the change.
A publisher unban undoes what the publisher's bans recorded in their entries, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from functions.registry.common import edge
from functions.registry.common import nodes as node_rules
from functions.registry.common.access import admin_user, publisher_or_404
from functions.registry.common.nodes import NodeFields
from shared import releases, version_numbers
from shared.auth.identity import Identity
from shared.db.models import AuditEntry, Node, NodeVersion, Publisher
from shared.db.types import utcnow
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import AuditAction, EventType
from shared.ports import BlobStore, CdnInvalidator
from shared.repositories.ports import AdminVersionFilter, AuditFilter
from shared.statuses import NodeStatus, VersionStatus
from shared.uow import UnitOfWork

ACTIVE, BANNED = NodeStatus.ACTIVE, NodeStatus.BANNED
# Moving a version to one of these needs a reason: publishers and users are shown it.
NEEDS_REASON = (VersionStatus.FLAGGED, VersionStatus.BANNED)
# Columns an admin edit may change, for the audit entry's list of changed fields.
ADMIN_COLUMNS = (*node_rules.COLUMNS.values(), "tags_admin", "status_detail")


@dataclass(frozen=True)
class VersionStatusChange:
    status: str  # a short status name (schemas parse the wire names)
    status_reason: str | None = None
    supported_os: list[str] | None = None
    supported_accelerators: list[str] | None = None
    supported_comfyui_version: str | None = None
    supported_comfyui_frontend_version: str | None = None


@dataclass(frozen=True)
class AdminNode:
    """A node as an admin writes it: the owner's fields plus the admin-only ones."""

    fields: NodeFields
    publisher_id: str | None = None
    tags_admin: list[str] | None = None
    status_detail: str | None = None
    status: str | None = None  # only its current value is accepted: bans and unbans change it


@dataclass(frozen=True)
class AuditQuery:
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    actor_id: str | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    total: int
    page: int
    limit: int


def _publisher_node(uow: UnitOfWork, publisher_id: str, node_id: str) -> tuple[Publisher, Node]:
    """The node, which must belong to the publisher: unlike an owner's check, another publisher's node is a 404."""
    publisher = publisher_or_404(uow, publisher_id)
    node = uow.nodes.get(node_id)
    if node is None or node.publisher_id != publisher.id:
        raise NotFound("Node not found", code="node_not_found")
    return publisher, node


# -- publishers ------------------------------------------------------------------------------------------------
def _withdraw_nodes(uow: UnitOfWork, blobs: BlobStore, node_ids: Sequence[str]) -> None:
    """Take every public archive of these nodes back before the ban commits (BlobStoreUnavailable rolls it back)."""
    nodes = uow.nodes.get_many(node_ids)
    releases.withdraw(blobs, [(nodes[r.node_id], r) for r in uow.versions.of_nodes(node_ids)])


def ban_publisher(
    uow: UnitOfWork, blobs: BlobStore, cdn: CdnInvalidator, identity: Identity, publisher_id: str, reason: str
) -> None:
    """Ban the publisher, every user holding a permission on it, and its live nodes, in one transaction; none of its
    archives stays public, and the CDN drops the nodes' cached reads once it commits."""
    with uow:
        admin = admin_user(uow, identity)
        publisher = publisher_or_404(uow, publisher_id)
        bans = uow.bans
        members = bans.members(publisher.id)
        if any(m.id == admin.id for m in members):
            raise Conflict("You are a member of this publisher; an admin cannot ban it", code="admin_is_member")
        # A member already banned only because of a banned publisher is covered by this ban too; one banned for
        # another reason is not, so that unbanning this publisher never lifts a ban it did not cause.
        in_banned = bans.in_banned_publisher([m.id for m in members])
        covered = [m.id for m in members if m.status != BANNED or m.id in in_banned]
        newly_banned = bans.set_user_status([m.id for m in members], BANNED)
        node_ids = bans.node_ids(publisher.id, [ACTIVE])
        _withdraw_nodes(uow, blobs, bans.node_ids(publisher.id, [ACTIVE, NodeStatus.DELETED, BANNED]))
        bans.set_node_status(node_ids, BANNED)
        previous = publisher.status
        publisher.status = BANNED
        uow.audit(
            admin.id,
            AuditAction.PUBLISHER_BAN,
            "publisher",
            publisher.id,
            reason,
            previous_status=previous,
            user_ids=covered,
            newly_banned_user_ids=newly_banned,
            other_banned_user_ids=[m.id for m in members if m.id not in covered],
            node_ids=node_ids,
        )
        for node_id in node_ids:
            uow.emit(EventType.NODE_BANNED, node_id=node_id, publisher_id=publisher.id, by=admin.id, reason=reason)
        if previous != BANNED:
            uow.emit(EventType.PUBLISHER_BANNED, publisher_id=publisher.id, by=admin.id, reason=reason)
        uow.commit()
    cdn.invalidate(edge.node_paths(node_ids))


def _outstanding_ban(uow: UnitOfWork, publisher_id: str) -> tuple[list[str], list[str]]:
    """User and node ids the publisher's bans since its last unban recorded as theirs, less the nodes an admin
    banned on their own since (an explicit node ban outlives the publisher's)."""
    user_ids: set[str] = set()
    node_ids: set[str] = set()
    first_ban = None
    for entry in uow.audit_log.for_target(
        "publisher", publisher_id, (AuditAction.PUBLISHER_BAN, AuditAction.PUBLISHER_UNBAN)
    ):
        if entry.action == AuditAction.PUBLISHER_UNBAN:
            break
        user_ids.update(entry.details.get("user_ids") or [])
        node_ids.update(entry.details.get("node_ids") or [])
        first_ban = entry.created_at
    if first_ban is not None:
        node_ids -= uow.audit_log.targets_acted_on("node", node_ids, AuditAction.NODE_BAN, first_ban)
    return sorted(user_ids), sorted(node_ids)


def unban_publisher(uow: UnitOfWork, identity: Identity, publisher_id: str, reason: str) -> None:
    """Lift a publisher ban: the publisher, the nodes it banned, and the users it banned who are not also members
    of another banned publisher."""
    with uow:
        admin = admin_user(uow, identity)
        publisher = publisher_or_404(uow, publisher_id)
        bans = uow.bans
        user_ids, node_ids = _outstanding_ban(uow, publisher.id)
        kept = bans.in_banned_publisher(user_ids, excluding=publisher.id)
        restored_users = bans.set_user_status([u for u in user_ids if u not in kept], ACTIVE, only_if=BANNED)
        # Only nodes still banned and still this publisher's: anything changed since is left alone.
        restored_nodes = bans.node_ids(publisher.id, [BANNED], among=node_ids)
        bans.set_node_status(restored_nodes, ACTIVE)
        previous = publisher.status
        publisher.status = ACTIVE
        uow.audit(
            admin.id,
            AuditAction.PUBLISHER_UNBAN,
            "publisher",
            publisher.id,
            reason,
            previous_status=previous,
            user_ids=restored_users,
            kept_banned_user_ids=sorted(kept),
            node_ids=restored_nodes,
        )
        for node_id in restored_nodes:
            uow.emit(EventType.NODE_UNBANNED, node_id=node_id, publisher_id=publisher.id, by=admin.id, reason=reason)
        if previous == BANNED:
            uow.emit(EventType.PUBLISHER_UNBANNED, publisher_id=publisher.id, by=admin.id, reason=reason)
        uow.commit()


# -- nodes -----------------------------------------------------------------------------------------------------
def ban_node(
    uow: UnitOfWork,
    blobs: BlobStore,
    cdn: CdnInvalidator,
    identity: Identity,
    publisher_id: str,
    node_id: str,
    reason: str,
) -> None:
    """Ban one node; a deleted one too, so that its publisher cannot bring it back by publishing. None of its
    archives stays public, and the CDN drops its cached reads once the ban commits."""
    with uow:
        admin = admin_user(uow, identity)
        publisher, node = _publisher_node(uow, publisher_id, node_id)
        previous = node.status
        _withdraw_nodes(uow, blobs, [node.id])
        if previous != BANNED:
            uow.bans.set_node_status([node.id], BANNED)
            uow.emit(EventType.NODE_BANNED, node_id=node.id, publisher_id=publisher.id, by=admin.id, reason=reason)
        uow.audit(
            admin.id, AuditAction.NODE_BAN, "node", node.id, reason, publisher_id=publisher.id, previous_status=previous
        )
        uow.commit()
    cdn.invalidate(edge.node_paths([node.id]))


def _status_before_ban(uow: UnitOfWork, node_id: str) -> str:
    """What the node was before its latest effective ban (a deleted node goes back to deleted)."""
    for entry in uow.audit_log.for_target("node", node_id, (AuditAction.NODE_BAN,)):
        previous = entry.details.get("previous_status")
        if previous and previous != BANNED:
            return str(previous)
    return ACTIVE


def unban_node(uow: UnitOfWork, identity: Identity, publisher_id: str, node_id: str, reason: str) -> None:
    with uow:
        admin = admin_user(uow, identity)
        publisher, node = _publisher_node(uow, publisher_id, node_id)
        if publisher.status == BANNED:
            raise Conflict("The node's publisher is banned; unban the publisher first", code="publisher_banned")
        previous = node.status
        restored = _status_before_ban(uow, node.id) if previous == BANNED else previous
        if restored != previous:
            uow.bans.set_node_status([node.id], restored)
            uow.emit(EventType.NODE_UNBANNED, node_id=node.id, publisher_id=publisher.id, by=admin.id, reason=reason)
        uow.audit(
            admin.id,
            AuditAction.NODE_UNBAN,
            "node",
            node.id,
            reason,
            publisher_id=publisher.id,
            previous_status=previous,
            new_status=restored,
        )
        uow.commit()


# -- versions --------------------------------------------------------------------------------------------------
COMPATIBILITY = (
    "supported_os",
    "supported_accelerators",
    "supported_comfyui_version",
    "supported_comfyui_frontend_version",
)


def _version_of(uow: UnitOfWork, node_id: str, version: str) -> tuple[Node, NodeVersion]:
    canonical = version_numbers.normalize(version)
    node = uow.nodes.get(node_id)
    if node is None:
        raise NotFound("Node not found", code="node_not_found")
    row = uow.versions.find(node.id, canonical)
    if row is None:
        raise NotFound("Node version not found", code="version_not_found")
    return node, row


def set_version_status(
    uow: UnitOfWork,
    blobs: BlobStore,
    cdn: CdnInvalidator,
    identity: Identity,
    node_id: str,
    version: str,
    body: VersionStatusChange,
) -> NodeVersion:
    """Set a version's status and reason (and, optionally, what it says it supports). A version leaving `active`
    loses its public archive before the change commits, and the CDN drops the node's cached reads after; one
    becoming `active` is released by the scanner, which the `version.status_changed` event reaches."""
    with uow:
        admin = admin_user(uow, identity)
        node, row = _version_of(uow, node_id, version)
        reason = (body.status_reason or "").strip()
        if body.status in NEEDS_REASON and not reason:
            raise InvalidInput(
                f"status_reason is required to set a version {body.status}: publishers and users see it",
                code="reason_required",
            )
        previous = row.status
        row.status, row.status_reason = body.status, reason
        if not releases.servable(row, node):
            releases.withdraw(blobs, [(node, row)])
        for field in COMPATIBILITY:
            if (value := getattr(body, field)) is not None:
                setattr(row, field, value)
        row.updated_at = utcnow()
        uow.nodes.touch(row.node_id)  # so that incremental sync hands the node out again
        change: dict[str, Any] = {"node_id": row.node_id, "version": row.version, "old_status": previous}
        change["new_status"] = row.status
        uow.audit(admin.id, AuditAction.VERSION_STATUS_CHANGE, "node_version", row.id, reason, **change)
        uow.emit(EventType.VERSION_STATUS_CHANGED, **change, version_id=row.id, reason=reason, by=admin.id)
        uow.commit()
    cdn.invalidate(edge.node_paths([node.id]))
    return row


# -- admin node edits ------------------------------------------------------------------------------------------
def _apply_admin(node: Node, body: AdminNode) -> None:
    if body.tags_admin is not None:
        node.tags_admin = body.tags_admin
    if body.status_detail is not None:
        node.status_detail = body.status_detail


def _refuse_status_change(body: AdminNode, current: str) -> None:
    if body.status is not None and body.status != current:
        raise InvalidInput(
            "A node's status changes only through the ban and unban endpoints, which cascade and are audited",
            code="status_not_editable",
        )


def admin_create_node(uow: UnitOfWork, identity: Identity, body: AdminNode) -> Node:
    """A node under any publisher, with the same id rules (and look-alike refusal) as an owner's."""
    with uow:
        admin = admin_user(uow, identity)
        publisher_id = body.publisher_id
        if not publisher_id:
            raise InvalidInput("publisher_id is required", code="publisher_required")
        publisher = publisher_or_404(uow, publisher_id)
        if publisher.status == BANNED:
            raise Conflict("The publisher is banned; unban it before adding nodes", code="publisher_banned")
        _refuse_status_change(body, ACTIVE)
        node = node_rules.new_node(uow, publisher.id, body.fields.id or "", body.fields)
        _apply_admin(node, body)
        uow.flush()
        uow.audit(admin.id, AuditAction.NODE_CREATE, "node", node.id, "", publisher_id=publisher.id)
        uow.emit(EventType.NODE_CREATED, node_id=node.id, publisher_id=publisher.id, by=admin.id)
        uow.commit()
        return node


def admin_update_node(uow: UnitOfWork, identity: Identity, node_id: str, body: AdminNode) -> Node:
    """Any node's fields, the admin-only ones included. Fields left out keep their value."""
    with uow:
        admin = admin_user(uow, identity)
        node = uow.nodes.get(node_id)
        if node is None:
            raise NotFound("Node not found", code="node_not_found")
        if body.fields.id is not None and body.fields.id != node.id:
            raise InvalidInput("A node's id cannot be changed", code="immutable_id")
        if body.publisher_id is not None and body.publisher_id != node.publisher_id:
            raise InvalidInput("A node cannot be moved to another publisher", code="immutable_publisher")
        _refuse_status_change(body, node.status)
        before = {column: getattr(node, column) for column in ADMIN_COLUMNS}
        node_rules.apply(node, body.fields, skip_empty=False)
        _apply_admin(node, body)
        changed = sorted(column for column, value in before.items() if getattr(node, column) != value)
        if changed:
            node.changed_at = utcnow()
        uow.audit(
            admin.id, AuditAction.NODE_UPDATE, "node", node.id, "", publisher_id=node.publisher_id, fields=changed
        )
        uow.emit(EventType.NODE_UPDATED, node_id=node.id, publisher_id=node.publisher_id, by=admin.id)
        uow.commit()
        return node


# -- the audit log ---------------------------------------------------------------------------------------------
def audit_log(uow: UnitOfWork, identity: Identity, query: AuditQuery, page: int, limit: int) -> AuditPage:
    f = AuditFilter(
        action=query.action, target_type=query.target_type, target_id=query.target_id, actor_id=query.actor_id
    )
    with uow:
        admin_user(uow, identity)
        entries, total = uow.audit_log.page(f, page, limit)
        uow.commit()  # the admin's user row, refreshed from the token as every login does
        return AuditPage(entries, total, page, limit)


# -- every version, for admins ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionPage:
    versions: Sequence[NodeVersion]
    total: int
    page: int
    size: int


def all_versions(uow: UnitOfWork, identity: Identity, f: AdminVersionFilter, page: int, size: int) -> VersionPage:
    with uow:
        admin_user(uow, identity)
        rows, total = uow.admin_versions.page(f, page, size)
        uow.commit()  # the admin's user row, refreshed from the token
        return VersionPage(rows, total, page, size)
