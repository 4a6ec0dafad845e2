"""The public reads: `/nodes`, `/nodes/{id}`, its versions and install, `/versions`, search and the bulk lookup.
Each parses the request, calls one use case and answers; the caller-independent ones come from the read cache."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.common import cache, serializers
from functions.registry.common.cache import cached_read, public_read
from functions.registry.reads import schemas, usecases
from functions.registry.reads import serializers as answers
from shared.bootstrap import Container
from shared.http import params
from shared.http.pages import page_args, page_number
from shared.http.responses import json_response
from shared.read_cache import CachedAnswer


@cached_read
def list_nodes(request: Request, c: Container) -> Response:
    page, limit = page_args(request.args, c.settings.max_page_size)
    result = usecases.list_nodes(c.uow(), schemas.node_query(request.args), page, limit)
    translations = params.flag(request.args, "include_translations")
    return json_response(serializers.node_page(result, c.blobs, with_publisher=True, translations=translations))


@cached_read
def get_node(request: Request, c: Container, node_id: str) -> Response:
    translations = params.flag(request.args, "include_translations")
    node, latest = usecases.get_node(c.uow(), node_id)
    return json_response(serializers.node(node, latest, c.blobs, translations=translations))


@public_read
def list_versions(request: Request, c: Container, node_id: str) -> Response:
    with_reason = params.flag(request.args, "include_status_reason")
    rows = usecases.list_versions(c.uow(), node_id, schemas.version_statuses(request.args))
    return json_response([serializers.version(v, c.blobs, include_reason=with_reason) for v in rows])


@public_read
def get_version(request: Request, c: Container, node_id: str, version: str) -> Response:
    return json_response(serializers.version(usecases.get_version(c.uow(), node_id, version), c.blobs))


def install(request: Request, c: Container, node_id: str) -> Response:
    """Cached like the other reads, except that every answer, stored or not, counts a download."""

    def resolve() -> cache.Computed:
        row = usecases.install(c.uow(), c.downloads, node_id, request.args.get("version") or None)
        return json_response(serializers.version(row, c.blobs)), row.node_id

    def counted(hit: CachedAnswer) -> None:
        usecases.count_install(c.downloads, hit.subject)

    # Never kept by the CDN: every install must reach us to be counted.
    return cache.serve(request, c, resolve, counted, public=False)


@public_read
def list_all_versions(request: Request, c: Container) -> Response:
    page = page_number(request.args)
    size = params.integer(request.args, "pageSize", 10, minimum=1, maximum=100, clamp=False)
    with_reason = params.flag(request.args, "include_status_reason")
    wanted = schemas.version_statuses(request.args)
    result = usecases.list_all_versions(c.uow(), wanted, request.args.get("nodeId") or None, page, size)
    return json_response(answers.version_page(result, c.blobs, with_reason=with_reason))


@cached_read
def search_nodes(request: Request, c: Container) -> Response:
    page, limit = schemas.search_page(request.args, c.settings.max_page_size)
    filters = schemas.search_filters(request.args)
    query = request.args.get("search", "").strip()
    result = usecases.search_nodes(c.uow(), c.search, query, filters, page, limit)
    return json_response(serializers.node_page(result, c.blobs, with_publisher=True))


def bulk_versions(request: Request, c: Container) -> Response:
    body = params.json_body(request, schemas.BulkVersionsIn)
    items = usecases.bulk_versions(c.uow(), body.wanted(), c.settings.bulk_max_items)
    return json_response(answers.bulk(items, c.blobs))
