"""The ComfyUI node classes of each version (the extractor's report from service accounts, public reads, edits),
and the scheduled endpoints that queue scans, extractions and reindexing (Cloud Scheduler's OIDC token).

Names of node classes may contain `/`, so the name is the rest of the path (`<path:...>`)."""

from __future__ import annotations

from datetime import timedelta

from flask import Request, Response

from functions.registry.comfy_nodes import schemas, serializers, usecases
from functions.registry.common import serializers as shared_wire
from functions.registry.common.http import caller, service_account
from shared.bootstrap import Container
from shared.http import body, params
from shared.http.pages import MAX_PAGE, page_args
from shared.http.responses import json_response, no_content

# An extraction report lists every node class of a pack with its input definitions: more than other bodies.
MAX_REPORT_BYTES = body.MAX_ANY_BODY
MAX_JOB_ITEMS = 1000
MAX_REINDEX_BATCH = 10_000


def create_comfy_nodes(request: Request, c: Container, node_id: str, version: str) -> Response:
    account = service_account(request, c)
    report = params.json_body(request, schemas.ComfyNodesIn, max_bytes=MAX_REPORT_BYTES).command()
    usecases.record_extraction(c.uow(), account, node_id, version, report)
    return no_content()


def list_comfy_nodes(request: Request, c: Container, node_id: str, version: str) -> Response:
    page, limit = page_args(request.args, c.settings.max_page_size)
    result = usecases.list_for_version(c.uow(), node_id, version, page, limit)
    return json_response(serializers.version_page(result, limit))


def get_comfy_node(request: Request, c: Container, node_id: str, version: str, comfy_node_name: str) -> Response:
    return json_response(serializers.comfy_node(usecases.get(c.uow(), node_id, version, comfy_node_name)))


def update_comfy_node(request: Request, c: Container, node_id: str, version: str, comfy_node_name: str) -> Response:
    identity = caller(request, c)
    change = params.json_body(request, schemas.ComfyNodeUpdateIn).change()
    row = usecases.update(c.uow(), identity, node_id, version, comfy_node_name, change)
    return json_response(serializers.comfy_node(row))


def list_all_comfy_nodes(request: Request, c: Container) -> Response:
    largest = c.settings.max_page_size
    page = params.integer(request.args, "page", 1, minimum=1, maximum=MAX_PAGE, clamp=False)
    size = params.integer(request.args, "pageSize", min(100, largest), minimum=1, maximum=largest, clamp=False)
    result = usecases.list_all(c.uow(), schemas.comfy_node_query(request.args), page, size)
    return json_response(serializers.listing(result))


def node_for_comfy_node(request: Request, c: Container, comfy_node_name: str) -> Response:
    node, latest = usecases.providing_node(c.uow(), comfy_node_name)
    return json_response(shared_wire.node(node, latest, c.blobs))


# -- the scheduled jobs ---------------------------------------------------------------------------------------
def security_scan(request: Request, c: Container) -> Response:
    account = service_account(request, c)
    min_age = params.duration(request.args, "minAge") or timedelta(minutes=30)
    max_nodes = params.integer(request.args, "maxNodes", 50, minimum=1, maximum=MAX_JOB_ITEMS, clamp=False)
    return json_response(serializers.requested(usecases.request_scans(c.uow(), account, min_age, max_nodes)))


def reindex(request: Request, c: Container) -> Response:
    account = service_account(request, c)
    max_batch = params.integer(request.args, "max_batch", 0, minimum=1, maximum=MAX_REINDEX_BATCH, clamp=False)
    min_age = params.duration(request.args, "min_age")
    usecases.request_reindex(c.uow(), account, max_batch or None, min_age)
    seconds = min_age.total_seconds() if min_age is not None else None
    return json_response({"queued": True, "max_batch": max_batch or None, "min_age_seconds": seconds}, 202)


def backfill(request: Request, c: Container) -> Response:
    account = service_account(request, c)
    max_node = params.integer(request.args, "max_node", 10, minimum=1, maximum=MAX_JOB_ITEMS, clamp=False)
    return json_response(serializers.requested(usecases.request_extractions(c.uow(), account, max_node)))


def update_github_stars(request: Request, c: Container) -> Response:
    account = service_account(request, c)
    max_batch = params.integer(request.args, "max_batch", 100, minimum=1, maximum=MAX_JOB_ITEMS, clamp=False)
    return json_response(serializers.stars_run(usecases.refresh_stars(c.uow(), c.github, account, max_batch)))
