"""The public read endpoints: `/nodes`, `/nodes/{id}`, versions, install, `/versions`."""

from __future__ import annotations

import contextlib

from flask import Request, Response
from werkzeug.datastructures import MultiDict

from functions.registry import serializers
from functions.registry.handlers import cached
from functions.registry.handlers.cached import Computed, cached_read
from functions.registry.handlers.common import container
from functions.registry.usecases import reads
from shared import versions, wire
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response
from shared.repositories.catalog import SORTABLE, NodeFilter

# ComfyUI-Manager's form factors, as the operating systems a node must support to be offered.
_FORM_FACTOR_OS = {
    "desktop-win": ["Microsoft :: Windows"],
    "git-windows": ["Microsoft :: Windows"],
    "desktop-mac": ["MacOS"],
    "git-mac": ["MacOS"],
    "git-linux": ["POSIX :: Linux"],
}
_ANY_OS = "OS Independent"
MAX_PAGE = 1_000_000  # far past any real listing; keeps OFFSET within what the databases accept
MAX_NODE_IDS = 1_000  # `node_id=` becomes one IN (...) list, which both databases take at this size


def page_number(args: MultiDict[str, str]) -> int:
    page = params.integer(args, "page", 1, minimum=1)  # below 1 means 1, as the old service did
    if page > MAX_PAGE:
        raise InvalidInput(f"Invalid page: {page}. The maximum allowed is {MAX_PAGE}.")
    return page


def page_args(args: MultiDict[str, str], size_name: str = "limit") -> tuple[int, int]:
    page = page_number(args)
    limit = params.integer(args, size_name, 10, minimum=1, maximum=container().settings.max_page_size)
    return page, limit


def statuses(args: MultiDict[str, str]) -> list[str]:
    out = []
    for raw in params.strings(args, "statuses"):
        short = wire.parse_version_status(raw)
        if short is None:
            raise InvalidInput(f"Unknown version status {raw!r}", code="invalid_status")
        out.append(short)
    return out


def node_filter(args: MultiDict[str, str]) -> NodeFilter:
    f = NodeFilter(
        include_banned=params.boolean(args, "include_banned", False) or False,
        changed_since=params.timestamp(args, "timestamp"),
        node_ids=params.strings(args, "node_id", max_items=MAX_NODE_IDS),
    )
    if os_values := params.strings(args, "supported_os"):
        f.supported_os.append([*os_values, _ANY_OS])
    if accelerators := params.strings(args, "supported_accelerator"):
        f.supported_accelerators.append(accelerators)
    if comfyui := args.get("comfyui_version"):
        # ComfyUI-Manager sends a git tag such as v0.3.40, or "unknown": only a version filters.
        with contextlib.suppress(InvalidInput):
            f.comfyui_version_key = versions.sort_key(versions.normalize(comfyui))
    if (form := args.get("form_factor")) in _FORM_FACTOR_OS:
        f.supported_os.append([*_FORM_FACTOR_OS[form], _ANY_OS])
    for item in params.strings(args, "sort"):
        name, _, direction = item.partition(";")
        if name not in SORTABLE or direction not in ("", "asc", "desc"):
            raise InvalidInput(
                f"Cannot sort by {item!r}; use one of {sorted(SORTABLE)} with ';desc' for descending",
                code="invalid_sort",
            )
        f.sort.append((name, direction == "desc"))
    return f


def node_page(result: reads.NodePage, *, with_publisher: bool, translations: bool = False) -> Response:
    blobs = container().blobs
    nodes = [
        serializers.node(
            n,
            result.latest.get(n.id),
            blobs,
            with_publisher=with_publisher,
            include_reason=False,
            translations=translations,
        )
        for n in result.nodes
    ]
    return json_response(wire.node_page(nodes, result.total, result.page, result.limit))


def include_translations(args: MultiDict[str, str]) -> bool:
    return params.boolean(args, "include_translations", False) or False


@cached_read
def list_nodes(request: Request) -> Response:
    page, limit = page_args(request.args)
    with_translations = include_translations(request.args)
    result = reads.list_nodes(container().uow(), node_filter(request.args), page, limit)
    return node_page(result, with_publisher=True, translations=with_translations)


@cached_read
def get_node(request: Request, node_id: str) -> Response:
    with_translations = include_translations(request.args)
    node, latest = reads.get_node(container().uow(), node_id)
    return json_response(serializers.node(node, latest, container().blobs, translations=with_translations))


def list_versions(request: Request, node_id: str) -> Response:
    with_reason = params.boolean(request.args, "include_status_reason", False) or False
    rows = reads.list_versions(container().uow(), node_id, statuses(request.args))
    blobs = container().blobs
    return json_response([serializers.version(v, blobs, include_reason=with_reason) for v in rows])


def get_version(request: Request, node_id: str, version: str) -> Response:
    row = reads.get_version(container().uow(), node_id, version)
    return json_response(serializers.version(row, container().blobs))


def install(request: Request, node_id: str) -> Response:
    """Cached like the other reads, except that every answer, stored or not, counts a download."""
    downloads = container().downloads

    def resolve() -> Computed:
        row = reads.install(container().uow(), downloads, node_id, request.args.get("version") or None)
        return json_response(serializers.version(row, container().blobs)), row.node_id

    return cached.serve(request, resolve, lambda hit: reads.count_install(downloads, hit.subject))


def list_all_versions(request: Request) -> Response:
    page = page_number(request.args)
    size = params.integer(request.args, "pageSize", 10, minimum=1, maximum=100, clamp=False)
    with_reason = params.boolean(request.args, "include_status_reason", False) or False
    result = reads.list_all_versions(
        container().uow(), statuses(request.args), request.args.get("nodeId") or None, page, size
    )
    blobs = container().blobs
    return json_response(
        {
            "total": result.total,
            "versions": [serializers.version(v, blobs, include_reason=with_reason) for v in result.versions],
            "page": result.page,
            "pageSize": result.size,
            "totalPages": wire.total_pages(result.total, result.size),
        }
    )


def publisher_nodes(request: Request, publisher_id: str) -> Response:
    """The old endpoint: a bare array (it silently stopped at 10; we return them all, up to a bound)."""
    f = NodeFilter(include_banned=params.boolean(request.args, "include_banned", False) or False)
    result = reads.publisher_nodes(container().uow(), publisher_id, f, 1, 1000)
    blobs = container().blobs
    return json_response([serializers.node(n, result.latest.get(n.id), blobs) for n in result.nodes])


def publisher_nodes_v2(request: Request, publisher_id: str) -> Response:
    page, limit = page_args(request.args)
    f = NodeFilter(include_banned=params.boolean(request.args, "include_banned", False) or False)
    return node_page(reads.publisher_nodes(container().uow(), publisher_id, f, page, limit), with_publisher=False)
