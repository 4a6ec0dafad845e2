"""Nodes and versions under a publisher, and the publish call."""

from __future__ import annotations

from flask import Request, Response

from functions.registry import serializers
from functions.registry.handlers.common import caller, container
from functions.registry.schemas import NodeIn, NodeVersionUpdateIn, PublishIn
from functions.registry.usecases import nodes, versions
from shared.http import params
from shared.http.responses import json_response, no_content


def create_node(request: Request, publisher_id: str) -> Response:
    identity = caller(request)
    row = nodes.create(
        container().uow(), identity, container().settings, publisher_id, params.json_body(request, NodeIn)
    )
    return json_response(serializers.node(row, None, container().blobs), 201)


def update_node(request: Request, publisher_id: str, node_id: str) -> Response:
    identity = caller(request)
    row = nodes.update(container().uow(), identity, publisher_id, node_id, params.json_body(request, NodeIn))
    return json_response(serializers.node(row, None, container().blobs))


def delete_node(request: Request, publisher_id: str, node_id: str) -> Response:
    nodes.delete(container().uow(), caller(request), publisher_id, node_id)
    return no_content()


def node_permissions(request: Request, publisher_id: str, node_id: str) -> Response:
    allowed = nodes.can_edit(container().uow(), caller(request), publisher_id, node_id)
    return json_response({"canEdit": allowed})


def publish_version(request: Request, publisher_id: str, node_id: str) -> Response:
    body = params.json_body(request, PublishIn)
    c = container()
    result = versions.publish(c.uow(), c.blobs, c.settings, publisher_id, node_id, body)
    return json_response(
        {"signedUrl": result.upload_url, "node_version": serializers.version(result.version, c.blobs)}, 201
    )


def update_version(request: Request, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, NodeVersionUpdateIn)
    row = versions.update(
        container().uow(), identity, publisher_id, node_id, params.uuid_param(version_id, "versionId"), body
    )
    return json_response(serializers.version(row, container().blobs))


def delete_version(request: Request, publisher_id: str, node_id: str, version_id: str) -> Response:
    identity = caller(request)
    c = container()
    versions.delete(c.uow(), c.blobs, identity, publisher_id, node_id, params.uuid_param(version_id, "versionId"))
    return no_content()
