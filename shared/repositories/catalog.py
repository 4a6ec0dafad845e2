"""Nodes and their versions: lookups, the filtered listings behind `/nodes`, and atomic counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, cast, exists, func, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shared.db.models import Node, NodeVersion, Publisher
from shared.db.types import utcnow
from shared.page_memo import PageMemo
from shared.repositories import listing, views
from shared.repositories.ports import NodeFilter
from shared.repositories.views import NodeView, VersionView
from shared.statuses import INSTALLABLE, NodeStatus, PublisherStatus

# The column each `sort` value a client may ask for orders by: the names of shared/repositories/ports.py's SORTABLE
# (tests/unit/test_sortable.py keeps the two in step).
SORTABLE = {
    "id": Node.id,
    "name": Node.name,
    "downloads": Node.total_install,
    "total_install": Node.total_install,
    "created_at": Node.created_at,
    "createdAt": Node.created_at,
    "updated_at": Node.changed_at,
    "publisher_id": Node.publisher_id,
    "rating": Node.total_star * 1.0 / func.nullif(Node.total_review, 0),
}


def _json_list_has_any(column: Any, values: list[str]) -> ColumnElement[bool]:
    # Lists are JSON text on both databases; matching the quoted element is exact and portable.
    text = cast(column, String)
    return or_(text == "[]", *[text.like(f'%"{v}"%') for v in values])


class Nodes:
    def __init__(self, session: Session, memo: PageMemo | None = None) -> None:
        self.s = session
        self._memo = memo  # what this instance knows of its listings' counts and page starts (shared/page_memo.py)

    def get(self, node_id: str) -> Node | None:
        return self.s.get(Node, node_id)

    def by_normalized_id(self, normalized_id: str) -> Node | None:
        return self.s.scalar(select(Node).where(Node.normalized_id == normalized_id))

    def add(self, node: Node) -> None:
        self.s.add(node)

    def get_many(self, node_ids: Sequence[str]) -> dict[str, Node]:
        if not node_ids:
            return {}
        return {n.id: n for n in self.s.scalars(select(Node).where(Node.id.in_(set(node_ids)))).unique().all()}

    def locked(self, node_id: str) -> Node | None:
        """The node, freshly read under a write lock, with its change time bumped.

        Writing first is what takes the lock on SQLite too (its reads run outside a transaction), so a
        read-modify-write of the node's JSON columns cannot lose a concurrent one."""
        self.touch(node_id)
        stmt = select(Node).where(Node.id == node_id).with_for_update(of=Node).execution_options(populate_existing=True)
        return self.s.scalar(stmt)

    def add_rating(self, node: Node, star_delta: int, review_delta: int) -> None:
        """Shift the rating counters in SQL (concurrent reviews all count), then read back what is stored."""
        self.s.execute(
            update(Node)
            .where(Node.id == node.id)
            .values(total_star=Node.total_star + star_delta, total_review=Node.total_review + review_delta)
            .execution_options(synchronize_session=False)
        )
        self.s.refresh(node, ["total_star", "total_review"])

    def ids_of_publisher(self, publisher_id: str) -> list[str]:
        return list(self.s.scalars(select(Node.id).where(Node.publisher_id == publisher_id).order_by(Node.id)).all())

    def count_for_publisher(self, publisher_id: str) -> int:
        stmt = select(func.count()).select_from(Node).where(Node.publisher_id == publisher_id)
        return int(self.s.scalar(stmt) or 0)

    def _filtered(self, f: NodeFilter) -> Select[Node]:
        stmt = select(Node).where(Node.status != NodeStatus.DELETED)
        if not f.include_banned:
            stmt = stmt.where(Node.status != NodeStatus.BANNED)
        if f.publisher_id:
            stmt = stmt.where(Node.publisher_id == f.publisher_id)
        if f.node_ids:
            stmt = stmt.where(Node.id.in_(f.node_ids))
        if f.changed_since is not None:
            since = f.changed_since
            stmt = stmt.where(
                or_(
                    Node.changed_at > since,
                    Node.created_at > since,
                    exists().where(and_(NodeVersion.node_id == Node.id, NodeVersion.updated_at > since)),
                )
            )
        if (key := f.comfyui_version_key) is not None:
            stmt = stmt.where(
                or_(Node.comfyui_low_key.is_(None), Node.comfyui_low_key <= key),
                or_(Node.comfyui_high_key.is_(None), Node.comfyui_high_key > key),
            )
        for values in f.supported_os:
            stmt = stmt.where(_json_list_has_any(Node.supported_os, values))
        for values in f.supported_accelerators:
            stmt = stmt.where(_json_list_has_any(Node.supported_accelerators, values))
        return stmt

    def page(self, f: NodeFilter, page: int, limit: int) -> tuple[Sequence[Node], int]:
        # Count and page over ids alone (no eager join to publishers), then load just that page's rows.
        ids_stmt = self._filtered(f).with_only_columns(Node.id)
        total = int(self.s.scalar(ids_stmt.with_only_columns(func.count(Node.id))) or 0)
        order: list[Any] = []
        for name, desc in f.sort:
            column = SORTABLE[name]
            order.append(column.desc() if desc else column.asc())
        order.append(Node.id.asc())  # a total order keeps pages stable while clients walk them
        ids = list(self.s.scalars(ids_stmt.order_by(*order).offset((page - 1) * limit).limit(limit)).all())
        if not ids:
            return [], total
        found = {n.id: n for n in self.s.scalars(select(Node).where(Node.id.in_(ids))).unique().all()}
        return [found[i] for i in ids if i in found], total

    def listing(self, f: NodeFilter, page: int, limit: int) -> tuple[list[NodeView], dict[str, VersionView], int]:
        """One page of the nodes `f` selects, as rows, each with its latest installable version, and the number of
        matches: a seek from the page before (the count and the page starts remembered per catalog tag)."""
        order: list[tuple[Any, bool]] = [(SORTABLE[name], desc) for name, desc in f.sort]
        order.append((Node.id, False))  # a total order keeps pages stable while clients walk them
        stmts = listing.statements(f, lambda: self._filtered(f), order)
        entry = listing.entry(self._memo, f)
        ids, total = listing.page_ids(self.s, stmts, entry, page, limit, seekable=listing.seekable(f))
        found, latest = views.records(self.s, ids)
        return views.in_order(ids, found), latest, total

    def records(self, node_ids: Sequence[str]) -> tuple[dict[str, NodeView], dict[str, VersionView]]:
        """These nodes as rows, and each one's latest installable version."""
        return views.records(self.s, node_ids)

    def count_downloads(self, node_id: str, count: int) -> None:
        self.s.execute(update(Node).where(Node.id == node_id).values(total_install=Node.total_install + count))

    def touch(self, node_id: str) -> None:
        self.s.execute(update(Node).where(Node.id == node_id).values(changed_at=utcnow()))


class Versions:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, version_id: str, *, lock: bool = False) -> NodeVersion | None:
        return self.s.get(NodeVersion, version_id, with_for_update=lock)

    def add(self, version: NodeVersion) -> None:
        self.s.add(version)

    def by_storage_path(self, path: str, *, lock: bool = False) -> NodeVersion | None:
        stmt = select(NodeVersion).where(NodeVersion.storage_path == path)
        return self.s.scalar(stmt.with_for_update() if lock else stmt)

    def to_scan(
        self, *, created_before: datetime | None, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        """Versions in the given statuses (and older than a time, if given), in id order after a cursor."""
        stmt = select(NodeVersion).where(NodeVersion.status.in_(statuses), NodeVersion.id > after_id)
        if created_before is not None:
            stmt = stmt.where(NodeVersion.created_at < created_before)
        return self.s.scalars(stmt.order_by(NodeVersion.id).limit(limit)).all()

    def timed_out(self, *, below: int, statuses: Sequence[str], after_id: str, limit: int) -> Sequence[NodeVersion]:
        stmt = select(NodeVersion).where(
            NodeVersion.status.in_(statuses),
            NodeVersion.scan_timeouts > 0,
            NodeVersion.scan_timeouts < below,
            NodeVersion.id > after_id,
        )
        return self.s.scalars(stmt.order_by(NodeVersion.id).limit(limit)).all()

    def judged_before(
        self, *, scanner_version: str, statuses: Sequence[str], after_id: str, limit: int
    ) -> Sequence[NodeVersion]:
        older = or_(NodeVersion.scanner_version.is_(None), NodeVersion.scanner_version != scanner_version)
        stmt = select(NodeVersion).where(
            NodeVersion.status.in_(statuses),
            NodeVersion.scanned_at.is_not(None),
            NodeVersion.scan_timeouts == 0,  # those are retried with a larger budget, or wait for an admin
            older,
            NodeVersion.id > after_id,
        )
        return self.s.scalars(stmt.order_by(NodeVersion.id).limit(limit)).all()

    def find(self, node_id: str, version: str, *, lock: bool = False) -> NodeVersion | None:
        stmt = select(NodeVersion).where(NodeVersion.node_id == node_id, NodeVersion.version == version)
        if lock:  # held until commit (FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), re-read fresh
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.s.scalar(stmt)

    def unreleased(self, *, after_id: str, limit: int) -> list[str]:
        """Ids of installable versions with no public archive whose node and publisher are not banned, in id order."""
        stmt = (
            select(NodeVersion.id)
            .join(Node, Node.id == NodeVersion.node_id)
            .join(Publisher, Publisher.id == Node.publisher_id)
            .where(
                NodeVersion.status.in_(INSTALLABLE),
                NodeVersion.release_path.is_(None),
                NodeVersion.id > after_id,
                Node.status != NodeStatus.BANNED,
                Publisher.status != PublisherStatus.BANNED,
            )
            .order_by(NodeVersion.id)
            .limit(limit)
        )
        return list(self.s.scalars(stmt).all())

    def of_nodes(self, node_ids: Sequence[str]) -> Sequence[NodeVersion]:
        """Every version of these nodes, whatever its status."""
        if not node_ids:
            return []
        return self.s.scalars(select(NodeVersion).where(NodeVersion.node_id.in_(list(node_ids)))).all()

    def for_node(self, node_id: str, statuses: Sequence[str] = ()) -> Sequence[NodeVersion]:
        stmt = select(NodeVersion).where(NodeVersion.node_id == node_id)
        if statuses:
            stmt = stmt.where(NodeVersion.status.in_(statuses))
        return self.s.scalars(stmt.order_by(NodeVersion.sort_key.desc())).all()

    def find_many(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], NodeVersion]:
        """Versions by (node id, version string), in one query."""
        if not pairs:
            return {}
        stmt = select(NodeVersion).where(tuple_(NodeVersion.node_id, NodeVersion.version).in_(set(pairs)))
        return {(v.node_id, v.version): v for v in self.s.scalars(stmt).all()}

    def latest(self, node_id: str, statuses: Sequence[str] = INSTALLABLE) -> NodeVersion | None:
        """The newest version in one of `statuses`; deprecated versions are never the latest."""
        stmt = (
            select(NodeVersion)
            .where(NodeVersion.node_id == node_id, NodeVersion.status.in_(statuses), NodeVersion.deprecated.is_(False))
            .order_by(NodeVersion.sort_key.desc())
            .limit(1)
        )
        return self.s.scalar(stmt)

    def latest_for_nodes(self, node_ids: Sequence[str]) -> dict[str, NodeVersion]:
        """The newest installable, not deprecated version of each node, in one query."""
        if not node_ids:
            return {}
        ranked = (
            select(
                NodeVersion.id,
                func.row_number()
                .over(partition_by=NodeVersion.node_id, order_by=NodeVersion.sort_key.desc())
                .label("rank"),
            )
            .where(
                NodeVersion.node_id.in_(list(node_ids)),
                NodeVersion.status.in_(INSTALLABLE),
                NodeVersion.deprecated.is_(False),
            )
            .subquery()
        )
        stmt = select(NodeVersion).join(ranked, ranked.c.id == NodeVersion.id).where(ranked.c.rank == 1)
        return {v.node_id: v for v in self.s.scalars(stmt).all()}

    def page(
        self, statuses: Sequence[str], node_id: str | None, page: int, size: int
    ) -> tuple[Sequence[NodeVersion], int]:
        stmt = select(NodeVersion)
        if statuses:
            stmt = stmt.where(NodeVersion.status.in_(statuses))
        if node_id:
            stmt = stmt.where(NodeVersion.node_id == node_id)
        total = int(self.s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        stmt = stmt.order_by(NodeVersion.created_at.desc(), NodeVersion.id).offset((page - 1) * size).limit(size)
        return self.s.scalars(stmt).all(), total
