"""Read-only views of nodes, their latest versions and publishers, as the public listings and search answer them.

The listings read them as plain rows (the columns the answer needs, no ORM identity map, no relationship loading), so
that a page of 30 nodes costs two small queries and a few microseconds per row instead of an ORM load. They carry the
attribute names of the models, so one serializer (functions/registry/common/serializers.py) writes both."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Select, String, Text, bindparam, cast, false, select, type_coerce
from sqlalchemy.orm import Session

from shared.db.models import Node, NodeVersion, Publisher, PublisherPermission
from shared.db.types import UTCDateTime, as_utc
from shared.statuses import INSTALLABLE


@dataclass(frozen=True, slots=True, eq=False)
class PublisherView:
    id: str
    name: str
    description: str
    website: str
    support_email: str
    source_code_repo: str
    logo_url: str
    created_at: datetime
    status: str
    permissions: Sequence[PublisherPermission] = ()  # members are never part of a listing


# Views are compared and hashed by identity (eq=False): one row's view is kept and shared (see _views), and the
# serializer keeps what it wrote of each view it was given.
@dataclass(frozen=True, slots=True, eq=False)
class VersionView:
    id: str
    node_id: str
    version: str
    created_at: datetime
    changelog: str
    pip_dependencies: list[str]
    deprecated: bool
    deprecation_reason: str
    status: str
    status_reason: str
    release_path: str | None
    supported_os: list[str]
    supported_accelerators: list[str]
    supported_comfyui_version: str
    supported_comfyui_frontend_version: str
    comfy_node_extract_status: str
    archive_sha256: str | None
    archive_size: int | None


@dataclass(frozen=True, slots=True, eq=False)
class NodeView:
    id: str
    name: str
    description: str
    category: str
    author: str
    license: str
    icon_url: str
    banner_url: str
    repository_url: str
    tags: list[str]
    total_install: int
    total_star: int
    total_review: int
    github_stars: int
    status: str
    status_detail: str
    supported_os: list[str]
    supported_accelerators: list[str]
    supported_comfyui_version: str
    supported_comfyui_frontend_version: str
    created_at: datetime
    translations: dict[str, Any]
    publisher_id: str
    publisher: PublisherView = field(compare=False)


# What a listing shows of a node, a version or a publisher; or the ORM object itself (the in-memory fakes, and the
# areas that read one node).
NodeRecord = Node | NodeView
VersionRecord = NodeVersion | VersionView
PublisherRecord = Publisher | PublisherView

_NODE = [getattr(Node, f) for f in NodeView.__dataclass_fields__ if f != "publisher"]
_PUBLISHER = [getattr(Publisher, f) for f in PublisherView.__dataclass_fields__ if f != "permissions"]
_VERSION = [getattr(NodeVersion, f) for f in VersionView.__dataclass_fields__]
_N, _P = len(_NODE), len(_PUBLISHER)


def _utc(value: Any) -> datetime | None:
    """A time as the driver gave it: SQLite's text, or PostgreSQL's datetime."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _json(value: Any) -> Any:
    """A JSON column as the driver gave it: text (SQLite) or already decoded."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _raw(columns: list[Any]) -> tuple[list[Any], list[tuple[int, Callable[[Any], Any]]]]:
    """The columns with the times and JSON read as the driver returns them, and what turns each into its value:
    SQLAlchemy's result processing (a regex per SQLite time, json per list) was a third of a page's cost."""
    selected: list[Any] = []
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(columns):
        kind = type(column.type)
        converter = _utc if kind is UTCDateTime else _json if kind is JSON else None
        if converter is None:
            selected.append(column)
        else:
            # A type without result processing: the driver's value as it comes. JSON as its text, so that a row is
            # hashable on PostgreSQL too (psycopg would decode it into lists).
            raw = cast(column, Text()) if kind is JSON else type_coerce(column, String())
            selected.append(raw.label(f"raw_{index}"))
            converters.append((index, converter))
    return selected, converters


_COLUMNS, _CONVERTERS = _raw([*_NODE, *_PUBLISHER, *_VERSION])


def _latest_id() -> Any:
    """The id of the node's newest installable, not deprecated version (the (node_id, sort_key) index walks it)."""
    return (
        select(NodeVersion.id)
        .where(NodeVersion.node_id == Node.id, NodeVersion.status.in_(INSTALLABLE), NodeVersion.deprecated == false())
        .order_by(NodeVersion.sort_key.desc())
        .limit(1)
        .correlate(Node)
        .scalar_subquery()
    )


@cache
def _records_statement() -> Select[Any]:
    # Built once: a statement with literal values would be built, keyed and looked up again on every call.
    return (
        select(*_COLUMNS)
        .join(Publisher, Publisher.id == Node.publisher_id)
        .outerjoin(NodeVersion, NodeVersion.id == _latest_id())
        .where(Node.id.in_(bindparam("ids", expanding=True)))
    )


def records(session: Session, node_ids: Sequence[str]) -> tuple[dict[str, NodeView], dict[str, VersionView]]:
    """These nodes (any status) with their publishers, and each one's latest installable version: one query."""
    if not node_ids:
        return {}, {}
    nodes: dict[str, NodeView] = {}
    latest: dict[str, VersionView] = {}
    # Through the session's connection: plain rows, without the ORM's execution and loading layers (half the cost).
    for row in session.connection().execute(_records_statement(), {"ids": list(set(node_ids))}).all():
        node, version = _views(tuple(row))
        nodes[node.id] = node
        if version is not None:
            latest[node.id] = version
    return nodes, latest


# Rows read again unchanged are most of a registry's reads (Manager pages through everything, the frontend asks for
# the same nodes); their views are kept, keyed by every value read, so a changed row is a new key and never stale.
# A node's row and views take about 4 KB and what the serializer keeps of it about 2 KB: at most some 70 MB.
VIEWS_KEPT = 12_000


@lru_cache(maxsize=VIEWS_KEPT)
def _views(raw: tuple[Any, ...]) -> tuple[NodeView, VersionView | None]:
    values = list(raw)
    for index, converter in _CONVERTERS:
        values[index] = converter(values[index])
    node = NodeView(*values[:_N], publisher=PublisherView(*values[_N : _N + _P]))  # type: ignore[misc]
    return node, (VersionView(*values[_N + _P :]) if values[_N + _P] is not None else None)


def in_order(node_ids: Sequence[str], found: Mapping[str, NodeView]) -> list[NodeView]:
    return [found[i] for i in node_ids if i in found]
