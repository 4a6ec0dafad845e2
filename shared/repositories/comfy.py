"""ComfyNodes: the ComfyUI node classes each version provides, and the version queues of the scheduled jobs
(versions awaiting extraction or a security scan)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from shared.db.models import ComfyNode, Node, NodeVersion
from shared.repositories.ports import ComfyNodeFilter
from shared.statuses import NodeStatus, VersionStatus

BANNED, DELETED, PENDING = VersionStatus.BANNED, VersionStatus.DELETED, VersionStatus.PENDING

# Versions whose node classes nobody should find, and nodes likewise.
HIDDEN_VERSION = (DELETED, BANNED)
HIDDEN_NODE = (NodeStatus.DELETED, NodeStatus.BANNED)


class ComfyNodes:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- one version's node classes ----------------------------------------------------------------
    def count_for_version(self, version_id: str) -> int:
        stmt = select(func.count()).select_from(ComfyNode).where(ComfyNode.node_version_id == version_id)
        return int(self.s.scalar(stmt) or 0)

    def delete_for_version(self, version_id: str) -> None:
        self.s.execute(delete(ComfyNode).where(ComfyNode.node_version_id == version_id))

    def add_all(self, rows: Sequence[ComfyNode]) -> None:
        self.s.add_all(rows)

    def get(self, version_id: str, name: str) -> ComfyNode | None:
        stmt = select(ComfyNode).where(ComfyNode.node_version_id == version_id, ComfyNode.name == name)
        return self.s.scalar(stmt)

    def for_version(self, version_id: str, page: int, limit: int) -> tuple[Sequence[ComfyNode], int]:
        stmt = select(ComfyNode).where(ComfyNode.node_version_id == version_id)
        return self._page(stmt, (ComfyNode.name, ComfyNode.id), page, limit)

    # -- across versions ---------------------------------------------------------------------------
    def page(self, f: ComfyNodeFilter, page: int, size: int) -> tuple[Sequence[ComfyNode], int]:
        """Node classes of visible versions of visible nodes, by node, newest version first, then name."""
        stmt = (
            select(ComfyNode)
            .join(NodeVersion, NodeVersion.id == ComfyNode.node_version_id)
            .join(Node, Node.id == NodeVersion.node_id)
            .where(NodeVersion.status.not_in(HIDDEN_VERSION), Node.status.not_in(HIDDEN_NODE))
        )
        if f.node_id is not None:
            stmt = stmt.where(NodeVersion.node_id == f.node_id)
        if f.version is not None:
            stmt = stmt.where(NodeVersion.version == f.version)
        if f.name is not None:
            stmt = stmt.where(ComfyNode.name == f.name)
        order = (NodeVersion.node_id, NodeVersion.sort_key.desc(), ComfyNode.name, ComfyNode.id)
        return self._page(stmt, order, page, size)

    def providing_node(self, name: str) -> Node | None:
        """The most installed active node with a visible version that provides this node class."""
        stmt = (
            select(Node)
            .join(NodeVersion, NodeVersion.node_id == Node.id)
            .join(ComfyNode, ComfyNode.node_version_id == NodeVersion.id)
            .where(ComfyNode.name == name, Node.status == NodeStatus.ACTIVE, NodeVersion.status.not_in(HIDDEN_VERSION))
            .order_by(Node.total_install.desc(), Node.id)
            .limit(1)
        )
        return self.s.scalars(stmt).unique().first()

    def _page(
        self, stmt: Select[ComfyNode], order: Sequence[object], page: int, size: int
    ) -> tuple[Sequence[ComfyNode], int]:
        total = int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.s.scalars(stmt.order_by(*order).offset((page - 1) * size).limit(size)).all()  # type: ignore[arg-type]
        return rows, total

    # -- work queues of the scheduled jobs ---------------------------------------------------------
    def awaiting_extraction(self, limit: int) -> Sequence[NodeVersion]:
        """Versions whose node classes were never extracted, oldest first (versions of live nodes only)."""
        stmt = (
            _live_versions()
            .where(NodeVersion.comfy_node_extract_status == PENDING)
            .order_by(NodeVersion.created_at, NodeVersion.id)
            .limit(limit)
        )
        return self.s.scalars(stmt).all()

    def awaiting_scan(self, created_before: datetime, limit: int) -> Sequence[NodeVersion]:
        """Versions still `pending` review that were published before the given time, oldest first."""
        stmt = (
            _live_versions()
            .where(NodeVersion.status == PENDING, NodeVersion.created_at < created_before)
            .order_by(NodeVersion.created_at, NodeVersion.id)
            .limit(limit)
        )
        return self.s.scalars(stmt).all()


def _live_versions() -> Select[NodeVersion]:
    return (
        select(NodeVersion)
        .join(Node, Node.id == NodeVersion.node_id)
        .where(NodeVersion.status.not_in(HIDDEN_VERSION), Node.status.not_in(HIDDEN_NODE))
    )
