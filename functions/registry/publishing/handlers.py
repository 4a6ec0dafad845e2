"""Users, publishers and their tokens, their nodes, and the versions published under them (comfy-cli's publish call,
edits, and what the scanner judged)."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.common import serializers
from functions.registry.common.http import caller
from functions.registry.common.schemas import NodeIn
from functions.registry.publishing import schemas
from functions.registry.publishing import serializers as answers
from functions.registry.publishing.usecases import claims, nodes, publishers, scans, tokens, versions
from shared.bootstrap import Container
from shared.http import params
from shared.http.pages import page_args
from shared.http.responses import json_response, no_content

# The old endpoint's bare array silently stopped at 10; we return them all, up to this many.
MAX_PUBLISHER_NODES = 1000


# -- users and publishers -------------------------------------------------------------------------------------
def get_user(request: Request, c: Container) -> Response:
    return json_response(serializers.user(publishers.me(c.uow(), caller(request, c))))


def list_user_publishers(request: Request, c: Container) -> Response:
    rows = publishers.list_for_user(c.uow(), caller(request, c))
    return json_response([serializers.publisher(p) for p in rows])


def list_publishers(request: Request, c: Container) -> Response:
    rows = publishers.list_all(c.uow(), caller(request, c))
    return json_response([serializers.publisher(p, members=False) for p in rows])


def create_publisher(request: Request, c: Container) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.PublisherIn).command()
    row = publishers.create(c.uow(), identity, body, c.settings.max_publishers_per_user)
    return json_response(serializers.publisher(row), 201)


def validate_publisher(request: Request, c: Container) -> Response:
    publishers.check_available(c.uow(), request.args.get("username", ""))
    return json_response({"isAvailable": True})


def get_publisher(request: Request, c: Container, publisher_id: str) -> Response:
    return json_response(serializers.publisher(publishers.get(c.uow(), publisher_id)))


def update_publisher(request: Request, c: Container, publisher_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.PublisherIn).command()
    return json_response(serializers.publisher(publishers.update(c.uow(), identity, publisher_id, body)))


def delete_publisher(request: Request, c: Container, publisher_id: str) -> Response:
    publishers.delete(c.uow(), caller(request, c), publisher_id)
    return no_content()


def publisher_permissions(request: Request, c: Container, publisher_id: str) -> Response:
    return json_response({"canEdit": publishers.can_edit(c.uow(), caller(request, c), publisher_id)})


# -- personal access tokens -----------------------------------------------------------------------------------
def list_tokens(request: Request, c: Container, publisher_id: str) -> Response:
    rows = tokens.list_for(c.uow(), caller(request, c), publisher_id)
    return json_response([serializers.token(t) for t in rows])


def create_token(request: Request, c: Container, publisher_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.TokenIn).command()
    issued = tokens.create(c.uow(), identity, publisher_id, body, c.settings.token_default_ttl_days)
    return json_response(serializers.token(issued.row, value=issued.value), 201)


def delete_token(request: Request, c: Container, publisher_id: str, token_id: str) -> Response:
    identity = caller(request, c)
    tokens.delete(c.uow(), identity, publisher_id, params.uuid_param(token_id, "tokenId"))
    return no_content()


# -- nodes ----------------------------------------------------------------------------------------------------
def publisher_nodes(request: Request, c: Container, publisher_id: str) -> Response:
    """The old endpoint: a bare array."""
    include_banned = params.flag(request.args, "include_banned")
    result = nodes.of_publisher(c.uow(), publisher_id, include_banned, 1, MAX_PUBLISHER_NODES)
    return json_response([serializers.node(n, result.latest.get(n.id), c.blobs) for n in result.nodes])


def publisher_nodes_v2(request: Request, c: Container, publisher_id: str) -> Response:
    page, limit = page_args(request.args, c.settings.max_page_size)
    include_banned = params.flag(request.args, "include_banned")
    result = nodes.of_publisher(c.uow(), publisher_id, include_banned, page, limit)
    return json_response(serializers.node_page(result, c.blobs, with_publisher=False))


def create_node(request: Request, c: Container, publisher_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, NodeIn).fields()
    row = nodes.create(c.uow(), identity, c.settings, publisher_id, body)
    return json_response(serializers.node(row, None, c.blobs), 201)


def update_node(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    identity = caller(request, c)
    row = nodes.update(c.uow(), identity, publisher_id, node_id, params.json_body(request, NodeIn).fields())
    return json_response(serializers.node(row, None, c.blobs))


def delete_node(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    nodes.delete(c.uow(), caller(request, c), publisher_id, node_id)
    return no_content()


def node_permissions(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    return json_response({"canEdit": nodes.can_edit(c.uow(), caller(request, c), publisher_id, node_id)})


# -- versions -------------------------------------------------------------------------------------------------
def publish_version(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    body = params.json_body(request, schemas.PublishIn).command()
    result = versions.publish(c.uow(), c.blobs, c.settings, publisher_id, node_id, body)
    return json_response(answers.published(result, c.blobs), 201)


def update_version(request: Request, c: Container, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.NodeVersionUpdateIn).command()
    version = params.uuid_param(version_id, "versionId")
    return json_response(
        serializers.version(versions.update(c.uow(), identity, publisher_id, node_id, version, body), c.blobs)
    )


def delete_version(request: Request, c: Container, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request, c)
    versions.delete(c.uow(), c.blobs, identity, publisher_id, node_id, params.uuid_param(version_id, "versionId"))
    return no_content()


def get_scan(request: Request, c: Container, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request, c)
    row = scans.findings(c.uow(), identity, publisher_id, node_id, params.uuid_param(version_id, "versionId"))
    return json_response(answers.scan(row))


def get_archive(request: Request, c: Container, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request, c)
    version = params.uuid_param(version_id, "versionId")
    ttl = c.settings.archive_download_ttl_seconds
    return json_response(
        answers.archive(scans.archive_link(c.uow(), c.blobs, ttl, identity, publisher_id, node_id, version))
    )


def claim_my_node(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.ClaimMyNodeIn)
    claims.claim(c.uow(), c.github, identity, publisher_id, node_id, body.GH_TOKEN)
    return no_content()
