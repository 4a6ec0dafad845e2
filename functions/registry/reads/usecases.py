"""The public reads: node lists, one node, its versions, the install that counts a download, the bulk lookup the
ComfyUI frontend makes, and search."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from functions.registry.common.access import find_version, readable, readable_node
from functions.registry.common.nodes import NodePage, node_page
from shared import version_numbers
from shared.db.models import Node, NodeVersion
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ports import DownloadTally, SearchFilters, SearchIndex
from shared.repositories.ports import SORTABLE, NodeFilter
from shared.repositories.views import NodeRecord, VersionRecord
from shared.statuses import INSTALLABLE, NodeStatus, PublisherStatus, VersionStatus
from shared.uow import UnitOfWork

# ComfyUI-Manager's form factors, as the operating systems a node must support to be offered.
FORM_FACTOR_OS = {
    "desktop-win": ["Microsoft :: Windows"],
    "git-windows": ["Microsoft :: Windows"],
    "desktop-mac": ["MacOS"],
    "git-mac": ["MacOS"],
    "git-linux": ["POSIX :: Linux"],
}
ANY_OS = "OS Independent"  # a node that says so runs on every OS
MAX_TEXT = 256  # the longest search text


@dataclass(frozen=True)
class NodeQuery:
    """Which nodes a listing shows and in what order: what `/nodes` takes."""

    include_banned: bool = False
    changed_since: datetime | None = None
    node_ids: Sequence[str] = ()
    supported_os: Sequence[str] = ()
    supported_accelerators: Sequence[str] = ()
    comfyui_version: str | None = None  # as ComfyUI-Manager sends it: a git tag such as v0.3.40, or "unknown"
    form_factor: str | None = None  # ComfyUI-Manager's desktop-win, git-linux, ...
    sort: Sequence[tuple[str, bool]] = ()  # (field, descending)


def node_filter(q: NodeQuery) -> NodeFilter:
    """A node matches an OS filter when it names the OS, says it runs anywhere, or says nothing."""
    f = NodeFilter(include_banned=q.include_banned, changed_since=q.changed_since, node_ids=list(q.node_ids))
    if q.supported_os:
        f.supported_os.append([*q.supported_os, ANY_OS])
    if q.supported_accelerators:
        f.supported_accelerators.append(list(q.supported_accelerators))
    if q.comfyui_version:
        # Only a version filters: "unknown" or a branch name shows everything.
        with contextlib.suppress(InvalidInput):
            f.comfyui_version_key = version_numbers.sort_key(version_numbers.normalize(q.comfyui_version))
    if q.form_factor in FORM_FACTOR_OS:
        f.supported_os.append([*FORM_FACTOR_OS[q.form_factor], ANY_OS])
    for name, descending in q.sort:
        if name not in SORTABLE:
            raise InvalidInput(
                f"Cannot sort by {name!r}; use one of {sorted(SORTABLE)} with ';desc' for descending",
                code="invalid_sort",
            )
        f.sort.append((name, descending))
    return f


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


def list_nodes(uow: UnitOfWork, query: NodeQuery, page: int, limit: int) -> NodePage:
    f = node_filter(query)
    with uow:
        return node_page(uow, f, page, limit)


def get_node(uow: UnitOfWork, node_id: str) -> tuple[NodeRecord, VersionRecord | None]:
    """The node and its newest installable version, read as the listings read them (one query, plain rows)."""
    with uow:
        found, latest = uow.nodes.records([node_id])
        node = readable(found.get(node_id))
        return node, latest.get(node.id)


def list_versions(uow: UnitOfWork, node_id: str, wanted: Sequence[str]) -> Sequence[NodeVersion]:
    """The node's versions in one of the `wanted` statuses (all of them when none is named), newest first."""
    with uow:
        node = readable_node(uow, node_id)
        return uow.versions.for_node(node.id, wanted)


def get_version(uow: UnitOfWork, node_id: str, version: str) -> NodeVersion:
    with uow:
        node = readable_node(uow, node_id)
        row = find_version(uow, node.id, version)
        if row is None:
            raise NotFound("Node version not found", code="version_not_found")
        return row


def install(uow: UnitOfWork, downloads: DownloadTally, node_id: str, version: str | None) -> VersionRecord:
    """The version to install (the newest installable one by default), counting one download."""
    with uow:
        row: VersionRecord | None
        if version:
            node: NodeRecord = readable_node(uow, node_id)
            row = find_version(uow, node.id, version)
            if row is None or row.status == VersionStatus.DELETED:
                raise NotFound(f"Version {version} of node {node_id} not found", code="version_not_found")
            if row.status == VersionStatus.PENDING:
                raise Conflict(
                    f"Version {row.version} of node {node_id} is being scanned; try again in a few minutes",
                    code="version_pending",
                )
            if row.status not in INSTALLABLE:
                raise Forbidden(
                    f"Version {row.version} of node {node_id} is {row.status} and cannot be installed",
                    code=f"version_{row.status}",
                )
        else:  # the common case (every ComfyUI-Manager install): read as the listings read, one query
            found, latest = uow.nodes.records([node_id])
            node = readable(found.get(node_id))
            row = latest.get(node.id)
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


def count_install(downloads: DownloadTally, node_id: str) -> None:
    """A download of a version already resolved (the install answer came from the read cache)."""
    downloads.add(node_id)


def list_all_versions(uow: UnitOfWork, wanted: Sequence[str], node_id: str | None, page: int, size: int) -> VersionPage:
    with uow:
        rows, total = uow.versions.page(wanted, node_id, page, size)
        return VersionPage(rows, total, page, size)


def bulk_versions(uow: UnitOfWork, wanted: Sequence[tuple[str, str]], max_items: int) -> list[BulkItem]:
    """Many getNodeVersion lookups in two queries, answered in request order.

    A version string that is not a semantic version is an `error` (the request is malformed, not the data
    missing); an unknown or deleted node and an unknown version are `not_found`; a banned node is an `error`."""
    if not wanted:
        raise InvalidInput("node_versions must list at least one node version", code="invalid_bulk")
    if len(wanted) > max_items:
        raise InvalidInput(f"At most {max_items} node versions per request, got {len(wanted)}", code="too_many_items")
    canonical = {raw: version_numbers.normalize_or_none(raw) for _, raw in wanted}
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
    if node is None or node.status == NodeStatus.DELETED:
        return BulkItem(node_id, raw, "not_found")
    if node.status == NodeStatus.BANNED:
        return BulkItem(node_id, raw, "error", error="Node Banned")
    row = found.get((node_id, version))
    if row is None:
        return BulkItem(node_id, raw, "not_found")
    return BulkItem(node_id, raw, "success", row=row)


def search_nodes(
    uow: UnitOfWork, index: SearchIndex, query: str, filters: SearchFilters, page: int, limit: int
) -> NodePage:
    """The index picks and orders the ids; the rows come from the database, so the answer has the `/nodes` shape
    whichever index is configured."""
    for name, value in (
        ("search", query),
        ("repository_url_search", filters.repository_url),
        ("comfy_node_search", filters.comfy_node),
    ):
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters", code="query_too_long")
    ids, total = index.search(query, filters, page, limit)
    with uow:
        rows, latest = uow.nodes.records(ids)
        # An external index lags the database: drop what became hidden since it was indexed.
        shown = [
            rows[i]
            for i in ids
            if i in rows
            and i in latest
            and rows[i].status not in (NodeStatus.BANNED, NodeStatus.DELETED)
            and rows[i].publisher.status != PublisherStatus.BANNED
        ]
        return NodePage(shown, latest, total, page, limit)
