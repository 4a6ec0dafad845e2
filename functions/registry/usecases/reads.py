"""The public reads: node lists, one node, its versions, and the install that counts a download."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from functions.registry.usecases.access import publisher_or_404, readable_node
from shared import versions
from shared.db.models import Node, NodeVersion
from shared.downloads import DownloadCounter
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.repositories.catalog import NodeFilter
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class NodePage:
    nodes: Sequence[Node]
    latest: dict[str, NodeVersion]
    total: int
    page: int
    limit: int


@dataclass(frozen=True)
class BulkItem:
    """One answer of a bulk lookup: the identifier as asked, and a version or why there is none."""

    node_id: str
    version: str
    status: str  # success | not_found | error
    row: NodeVersion | None = None
    error: str | None = None


@dataclass(frozen=True)
class VersionPage:
    versions: Sequence[NodeVersion]
    total: int
    page: int
    size: int


def list_nodes(uow: UnitOfWork, f: NodeFilter, page: int, limit: int) -> NodePage:
    with uow:
        rows, total = uow.nodes.page(f, page, limit)
        latest = uow.versions.latest_for_nodes([n.id for n in rows])
        return NodePage(rows, latest, total, page, limit)


def publisher_nodes(uow: UnitOfWork, publisher_id: str, f: NodeFilter, page: int, limit: int) -> NodePage:
    with uow:
        publisher_or_404(uow, publisher_id)
        f.publisher_id = publisher_id
        rows, total = uow.nodes.page(f, page, limit)
        latest = uow.versions.latest_for_nodes([n.id for n in rows])
        return NodePage(rows, latest, total, page, limit)


def get_node(uow: UnitOfWork, node_id: str) -> tuple[Node, NodeVersion | None]:
    with uow:
        node = readable_node(uow, node_id)
        return node, uow.versions.latest(node.id)


def list_versions(uow: UnitOfWork, node_id: str, statuses: Sequence[str]) -> Sequence[NodeVersion]:
    with uow:
        node = readable_node(uow, node_id)
        return uow.versions.for_node(node.id, statuses)


def get_version(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion:
    with uow:
        node = readable_node(uow, node_id)
        row = _find(uow, node.id, version)
        if row is None:
            raise NotFound("Node version not found", code="version_not_found")
        return row


def _find(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion | None:
    try:
        canonical = versions.normalize(version)
    except InvalidInput:
        return None
    return uow.versions.find(node_id, canonical)


def install(uow: UnitOfWork, downloads: DownloadCounter, node_id: str, version: str | None) -> NodeVersion:
    """The version to install (the newest installable one by default), counting one download."""
    with uow:
        node = readable_node(uow, node_id)
        if version:
            row = _find(uow, node.id, version)
            if row is None or row.status == versions.DELETED:
                raise NotFound(f"Version {version} of node {node_id} not found", code="version_not_found")
            if row.status == versions.PENDING:
                raise Conflict(
                    f"Version {row.version} of node {node_id} is being scanned; try again in a few minutes",
                    code="version_pending",
                )
            if row.status not in versions.INSTALLABLE:
                raise Forbidden(
                    f"Version {row.version} of node {node_id} is {row.status} and cannot be installed",
                    code=f"version_{row.status}",
                )
        else:
            row = uow.versions.latest(node.id)
            if row is None:
                raise NotFound(f"Node {node_id} has no installable version", code="no_installable_version")
        if row.release_path is None:
            # Passed, but the scanner has not copied it to the public location yet (or is copying it back after
            # an unban): nothing to download for a moment.
            raise Conflict(
                f"Version {row.version} of node {node_id} is being released; try again in a minute",
                code="version_pending",
            )
    count_install(downloads, node.id)
    return row


def count_install(downloads: DownloadCounter, node_id: str) -> None:
    """A download of a version already resolved (the install answer came from the read cache)."""
    downloads.add(node_id)


def list_all_versions(
    uow: UnitOfWork, statuses: Sequence[str], node_id: str | None, page: int, size: int
) -> VersionPage:
    with uow:
        rows, total = uow.versions.page(statuses, node_id, page, size)
        return VersionPage(rows, total, page, size)


def bulk_versions(uow: UnitOfWork, wanted: Sequence[tuple[str, str]], max_items: int) -> list[BulkItem]:
    """Many getNodeVersion lookups in two queries, answered in request order.

    A version string that is not a semantic version is an `error` (the request is malformed, not the data
    missing); an unknown or deleted node and an unknown version are `not_found`; a banned node is an `error`."""
    if not wanted:
        raise InvalidInput("node_versions must list at least one node version", code="invalid_bulk")
    if len(wanted) > max_items:
        raise InvalidInput(f"At most {max_items} node versions per request, got {len(wanted)}", code="too_many_items")
    canonical: dict[str, str | None] = {}
    for _, raw in wanted:
        if raw not in canonical:
            try:
                canonical[raw] = versions.normalize(raw)
            except InvalidInput:
                canonical[raw] = None
    with uow:
        nodes = uow.nodes.get_many([node_id for node_id, _ in wanted])
        pairs = [(n, v) for n, raw in wanted if (v := canonical[raw]) is not None and n in nodes]
        found = uow.versions.find_many(pairs)
        return [_bulk_item(node_id, raw, canonical[raw], nodes.get(node_id), found) for node_id, raw in wanted]


def _bulk_item(
    node_id: str,
    raw: str,
    version: str | None,
    node: Node | None,
    found: dict[tuple[str, str], NodeVersion],
) -> BulkItem:
    if version is None:
        return BulkItem(node_id, raw, "error", error=f"Invalid semantic version: {raw!r}")
    if node is None or node.status == "deleted":
        return BulkItem(node_id, raw, "not_found")
    if node.status == "banned":
        return BulkItem(node_id, raw, "error", error="Node Banned")
    row = found.get((node_id, version))
    if row is None:
        return BulkItem(node_id, raw, "not_found")
    return BulkItem(node_id, raw, "success", row=row)
