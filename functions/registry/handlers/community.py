"""Reviews, translations and the bulk version lookup the ComfyUI frontend makes."""

from __future__ import annotations

from typing import Any

from flask import Request, Response

from functions.registry import serializers
from functions.registry.handlers.common import caller, container
from functions.registry.schemas import BulkVersionsIn, TranslationsIn
from functions.registry.usecases import community, reads
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response
from shared.http.router import Route


def post_review(request: Request, node_id: str) -> Response:
    identity = caller(request)
    if not request.args.get("star"):
        raise InvalidInput("Query parameter star is required: a whole number from 1 to 5", code="invalid_star")
    star = params.integer(request.args, "star", 0)
    row = community.review(container().uow(), identity, node_id, star)
    return json_response(serializers.node(row, None, container().blobs))


def create_translations(request: Request, node_id: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, TranslationsIn)
    row = community.set_translations(container().uow(), identity, node_id, body.data)
    return json_response(serializers.node(row, None, container().blobs, translations=True), 201)


def bulk_versions(request: Request) -> Response:
    body = params.json_body(request, BulkVersionsIn)
    c = container()
    wanted = [(item.node_id, item.version) for item in body.node_versions]
    items = reads.bulk_versions(c.uow(), wanted, c.settings.bulk_max_items)
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {
            "identifier": {"node_id": item.node_id, "version": item.version},
            "status": item.status,
        }
        if item.row is not None:
            entry["node_version"] = serializers.version(item.row, c.blobs)
        if item.error is not None:
            entry["error_message"] = item.error
        out.append(entry)
    return json_response({"node_versions": out})


ROUTES: list[Route] = [
    Route("POST", "/nodes/<node_id>/reviews", post_review, "postNodeReview"),
    Route("POST", "/nodes/<node_id>/translations", create_translations, "CreateNodeTranslations"),
    Route("POST", "/bulk/nodes/versions", bulk_versions, "getBulkNodeVersions"),
]
