"""The ComfyUI node classes of each version: the extractor's report (service accounts), public reads, edits.

Names of node classes may contain `/`, so the name is the rest of the path (`<path:...>`)."""

from __future__ import annotations

from flask import Request, Response

from functions.registry import serializers, serializers_comfy
from functions.registry.handlers.common import caller, container, service_account
from functions.registry.handlers.reads import page_args
from functions.registry.schemas_comfy import ComfyNodesIn, ComfyNodeUpdateIn
from functions.registry.usecases import comfy_nodes
from shared import versions, wire
from shared.errors import InvalidInput
from shared.http import body, params
from shared.http.responses import json_response, no_content
from shared.http.router import Route
from shared.repositories.comfy import ComfyNodeFilter

# An extraction report lists every node class of a pack with its input definitions: more than other bodies.
MAX_REPORT_BYTES = body.MAX_ANY_BODY
MAX_PAGE = 1_000_000


def create_comfy_nodes(request: Request, node_id: str, version: str) -> Response:
    account = service_account(request)
    comfy_nodes.record_extraction(
        container().uow(),
        account,
        node_id,
        version,
        params.json_body(request, ComfyNodesIn, max_bytes=MAX_REPORT_BYTES),
    )
    return no_content()


def list_comfy_nodes(request: Request, node_id: str, version: str) -> Response:
    page, limit = page_args(request.args)
    page = min(page, MAX_PAGE)
    result = comfy_nodes.list_for_version(container().uow(), node_id, version, page, limit)
    return json_response(
        {
            "comfy_nodes": [serializers_comfy.comfy_node(c) for c in result.comfy_nodes],
            "totalNumberOfPages": wire.total_pages(result.total, limit),
        }
    )


def get_comfy_node(request: Request, node_id: str, version: str, comfy_node_name: str) -> Response:
    row = comfy_nodes.get(container().uow(), node_id, version, comfy_node_name)
    return json_response(serializers_comfy.comfy_node(row))


def update_comfy_node(request: Request, node_id: str, version: str, comfy_node_name: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, ComfyNodeUpdateIn)
    row = comfy_nodes.update(container().uow(), identity, node_id, version, comfy_node_name, body)
    return json_response(serializers_comfy.comfy_node(row))


def _filter(request: Request) -> ComfyNodeFilter:
    raw_version = request.args.get("node_version") or None
    canonical = None
    if raw_version is not None:
        try:
            canonical = versions.normalize(raw_version)
        except InvalidInput as exc:
            raise InvalidInput(f"Query parameter node_version: {exc.message}", code="invalid_version") from exc
    return ComfyNodeFilter(
        node_id=request.args.get("node_id") or None,
        version=canonical,
        name=request.args.get("comfy_node_name") or None,
    )


def list_all_comfy_nodes(request: Request) -> Response:
    largest = container().settings.max_page_size
    page = params.integer(request.args, "page", 1, minimum=1, maximum=MAX_PAGE, clamp=False)
    size = params.integer(request.args, "pageSize", min(100, largest), minimum=1, maximum=largest, clamp=False)
    result = comfy_nodes.list_all(container().uow(), _filter(request), page, size)
    return json_response(
        {"comfy_nodes": [serializers_comfy.comfy_node(c) for c in result.comfy_nodes], "total": result.total}
    )


def node_for_comfy_node(request: Request, comfy_node_name: str) -> Response:
    node, latest = comfy_nodes.providing_node(container().uow(), comfy_node_name)
    return json_response(serializers.node(node, latest, container().blobs))


_ONE = "/nodes/<node_id>/versions/<version>/comfy-nodes/<path:comfy_node_name>"
ROUTES: list[Route] = [
    Route("POST", "/nodes/<node_id>/versions/<version>/comfy-nodes", create_comfy_nodes, "CreateComfyNodes"),
    Route("GET", "/nodes/<node_id>/versions/<version>/comfy-nodes", list_comfy_nodes, "ListComfyNodes"),
    Route("GET", _ONE, get_comfy_node, "GetComfyNode"),
    Route("PUT", _ONE, update_comfy_node, "UpdateComfyNode"),
    Route("GET", "/comfy-nodes", list_all_comfy_nodes, "ListAllComfyNodes"),
    Route("GET", "/comfy-nodes/<path:comfy_node_name>/node", node_for_comfy_node, "getNodeByComfyNodeName"),
]
