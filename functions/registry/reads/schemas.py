"""What the public reads take: the query strings of the listings and search, and the bulk lookup's body."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints
from werkzeug.datastructures import MultiDict

from functions.registry.common.schemas import Body
from functions.registry.reads.usecases import NodeQuery
from shared import wire
from shared.errors import InvalidInput
from shared.http import params
from shared.ports import SearchFilters

MAX_NODE_IDS = 1_000  # `node_id=` becomes one IN (...) list, which both databases take at this size
MAX_SEARCH_PAGE = 10_000  # deep search pages are refused rather than sent to the database as huge offsets


class VersionIdentifier(Body):
    node_id: Annotated[str, StringConstraints(max_length=256)]
    version: Annotated[str, StringConstraints(max_length=256)]


class BulkVersionsIn(Body):
    # Between 1 and Settings.bulk_max_items items: the use case checks, with a message that names the bound.
    node_versions: list[VersionIdentifier]

    def wanted(self) -> list[tuple[str, str]]:
        return [(item.node_id, item.version) for item in self.node_versions]


def node_query(args: MultiDict[str, str]) -> NodeQuery:
    """`/nodes`'s filters and order, as ComfyUI-Manager and the frontend send them."""
    sort = []
    for item in params.strings(args, "sort"):
        name, _, direction = item.partition(";")
        if direction not in ("", "asc", "desc"):
            raise InvalidInput(f"Sort direction must be asc or desc, got {item!r}", code="invalid_sort")
        sort.append((name, direction == "desc"))
    return NodeQuery(
        include_banned=params.flag(args, "include_banned"),
        changed_since=params.timestamp(args, "timestamp"),
        node_ids=params.strings(args, "node_id", max_items=MAX_NODE_IDS),
        supported_os=params.strings(args, "supported_os"),
        supported_accelerators=params.strings(args, "supported_accelerator"),
        comfyui_version=args.get("comfyui_version") or None,
        form_factor=args.get("form_factor") or None,
        sort=sort,
    )


def version_statuses(args: MultiDict[str, str]) -> list[str]:
    """`statuses=` in wire or short names, as the short names the database keeps."""
    out = []
    for raw in params.strings(args, "statuses"):
        short = wire.parse_version_status(raw)
        if short is None:
            raise InvalidInput(f"Unknown version status {raw!r}", code="invalid_status")
        out.append(short)
    return out


def search_page(args: MultiDict[str, str], max_size: int) -> tuple[int, int]:
    page = params.integer(args, "page", 1, minimum=1)
    if page > MAX_SEARCH_PAGE:
        raise InvalidInput(f"page must be at most {MAX_SEARCH_PAGE}; narrow the search instead", code="page_too_deep")
    return page, params.integer(args, "limit", 10, minimum=1, maximum=max_size)


def search_filters(args: MultiDict[str, str]) -> SearchFilters:
    # include_banned is accepted for compatibility and checked, but search never shows banned nodes.
    params.boolean(args, "include_banned", False)
    return SearchFilters(
        repository_url=args.get("repository_url_search", "").strip(),
        comfy_node=args.get("comfy_node_search", "").strip(),
        supported_os=tuple(params.strings(args, "supported_os")),
        supported_accelerators=tuple(params.strings(args, "supported_accelerator")),
    )
