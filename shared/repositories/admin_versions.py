"""Every node version as an admin lists them (GET /admin/nodeversions), deleted ones on request."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import NodeVersion
from shared.repositories.ports import AdminVersionFilter
from shared.statuses import VersionStatus


class AdminVersions:
    def __init__(self, session: Session) -> None:
        self.s = session

    def page(self, f: AdminVersionFilter, page: int, size: int) -> tuple[Sequence[NodeVersion], int]:
        """Newest first (then by id, so pages never overlap), and how many match in all."""
        stmt = select(NodeVersion)
        if f.node_id:
            stmt = stmt.where(NodeVersion.node_id == f.node_id)
        if f.statuses:
            stmt = stmt.where(NodeVersion.status.in_(f.statuses))
        if not f.include_deleted:
            stmt = stmt.where(NodeVersion.status != VersionStatus.DELETED)
        if f.status_reason:
            stmt = stmt.where(func.lower(NodeVersion.status_reason).contains(f.status_reason.lower(), autoescape=True))
        total = int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        stmt = stmt.order_by(NodeVersion.created_at.desc(), NodeVersion.id).offset((page - 1) * size).limit(size)
        return self.s.scalars(stmt).all(), total
