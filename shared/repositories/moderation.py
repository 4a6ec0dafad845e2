"""Moderation: the audit log, and the bulk status changes a publisher ban cascades into."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.db.models import AuditEntry, Node, Publisher, PublisherPermission, User
from shared.db.types import utcnow
from shared.repositories.ports import AuditFilter
from shared.statuses import PublisherStatus


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.s = session

    def page(self, f: AuditFilter, page: int, limit: int) -> tuple[Sequence[AuditEntry], int]:
        stmt = select(AuditEntry)
        for column, value in (
            (AuditEntry.action, f.action),
            (AuditEntry.target_type, f.target_type),
            (AuditEntry.target_id, f.target_id),
            (AuditEntry.actor_id, f.actor_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        total = int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        newest_first = stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        rows = self.s.scalars(newest_first.offset((page - 1) * limit).limit(limit)).all()
        return rows, total

    def for_target(self, target_type: str, target_id: str, actions: Collection[str]) -> Sequence[AuditEntry]:
        """The target's entries with one of these actions, newest first."""
        stmt = (
            select(AuditEntry)
            .where(
                AuditEntry.target_type == target_type,
                AuditEntry.target_id == target_id,
                AuditEntry.action.in_(list(actions)),
            )
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
        return self.s.scalars(stmt).all()

    def targets_acted_on(self, target_type: str, target_ids: Collection[str], action: str, since: datetime) -> set[str]:
        """Those of the targets that had this action done to them after `since`."""
        if not target_ids:
            return set()
        stmt = select(AuditEntry.target_id).where(
            AuditEntry.target_type == target_type,
            AuditEntry.target_id.in_(list(target_ids)),
            AuditEntry.action == action,
            AuditEntry.created_at > since,
        )
        return set(self.s.scalars(stmt).all())


class Bans:
    """What a publisher ban touches: its members and its nodes, changed in bulk within the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def members(self, publisher_id: str) -> Sequence[User]:
        """Every user holding any permission on the publisher."""
        stmt = (
            select(User)
            .join(PublisherPermission, PublisherPermission.user_id == User.id)
            .where(PublisherPermission.publisher_id == publisher_id)
            .order_by(User.id)
        )
        return self.s.scalars(stmt).all()

    def in_banned_publisher(self, user_ids: Collection[str], *, excluding: str | None = None) -> set[str]:
        """Those of the users who hold a permission on a banned publisher (other than `excluding`)."""
        if not user_ids:
            return set()
        stmt = (
            select(PublisherPermission.user_id)
            .join(Publisher, Publisher.id == PublisherPermission.publisher_id)
            .where(PublisherPermission.user_id.in_(list(user_ids)), Publisher.status == PublisherStatus.BANNED)
        )
        if excluding is not None:
            stmt = stmt.where(Publisher.id != excluding)
        return set(self.s.scalars(stmt).all())

    def set_user_status(self, user_ids: Collection[str], status: str, *, only_if: str | None = None) -> list[str]:
        """Set the status of these users (those currently `only_if`, when given); the ids changed, sorted."""
        if not user_ids:
            return []
        stmt = select(User.id).where(User.id.in_(list(user_ids)), User.status != status)
        if only_if is not None:
            stmt = stmt.where(User.status == only_if)
        changed = sorted(self.s.scalars(stmt).all())
        if changed:
            self.s.execute(
                update(User).where(User.id.in_(changed)).values(status=status, updated_at=utcnow()),
                execution_options={"synchronize_session": "fetch"},
            )
        return changed

    def node_ids(self, publisher_id: str, statuses: Collection[str], among: Collection[str] | None = None) -> list[str]:
        """The publisher's nodes in one of these statuses (limited to `among` when given), sorted."""
        stmt = select(Node.id).where(Node.publisher_id == publisher_id, Node.status.in_(list(statuses)))
        if among is not None:
            if not among:
                return []
            stmt = stmt.where(Node.id.in_(list(among)))
        return list(self.s.scalars(stmt.order_by(Node.id)).all())

    def set_node_status(self, node_ids: Collection[str], status: str) -> None:
        """One UPDATE; `changed_at` moves so that incremental sync and the indexer see it."""
        if not node_ids:
            return
        now = utcnow()
        self.s.execute(
            update(Node).where(Node.id.in_(list(node_ids))).values(status=status, changed_at=now, updated_at=now),
            execution_options={"synchronize_session": "fetch"},
        )
