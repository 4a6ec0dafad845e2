"""Bans, unbans and the admin endpoints; every one needs an admin (`users.is_admin` or the `admin` claim)."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.common import serializers
from functions.registry.common.http import caller
from functions.registry.moderation import schemas, usecases
from functions.registry.moderation import serializers as answers
from shared.bootstrap import Container
from shared.http import params
from shared.http.pages import page_args, page_number
from shared.http.responses import json_response, no_content


def ban_publisher(request: Request, c: Container, publisher_id: str) -> Response:
    identity = caller(request, c)
    usecases.ban_publisher(c.uow(), c.blobs, c.cdn, identity, publisher_id, schemas.reason(request))
    return no_content()


def unban_publisher(request: Request, c: Container, publisher_id: str) -> Response:
    identity = caller(request, c)
    usecases.unban_publisher(c.uow(), identity, publisher_id, schemas.reason(request))
    return no_content()


def ban_node(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    identity = caller(request, c)
    usecases.ban_node(c.uow(), c.blobs, c.cdn, identity, publisher_id, node_id, schemas.reason(request))
    return no_content()


def unban_node(request: Request, c: Container, publisher_id: str, node_id: str) -> Response:
    identity = caller(request, c)
    usecases.unban_node(c.uow(), identity, publisher_id, node_id, schemas.reason(request))
    return no_content()


def update_version(request: Request, c: Container, node_id: str, version_number: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.VersionStatusIn).command()
    row = usecases.set_version_status(c.uow(), c.blobs, c.cdn, identity, node_id, version_number, body)
    return json_response(serializers.version(row, c.blobs))


def create_node(request: Request, c: Container) -> Response:
    identity = caller(request, c)
    row = usecases.admin_create_node(c.uow(), identity, params.json_body(request, schemas.AdminNodeIn).command())
    return json_response(serializers.node(row, None, c.blobs), 201)


def update_node(request: Request, c: Container, node_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.AdminNodeIn).command()
    return json_response(serializers.node(usecases.admin_update_node(c.uow(), identity, node_id, body), None, c.blobs))


def audit_log(request: Request, c: Container) -> Response:
    identity = caller(request, c)
    page, limit = page_args(request.args, c.settings.max_page_size)
    result = usecases.audit_log(c.uow(), identity, schemas.audit_query(request.args), page, limit)
    return json_response(answers.audit_page(result))


def all_versions(request: Request, c: Container) -> Response:
    identity = caller(request, c)
    page = page_number(request.args)
    size = params.integer(request.args, "pageSize", 10, minimum=1, maximum=100, clamp=False)
    with_reason = params.flag(request.args, "include_status_reason")
    result = usecases.all_versions(c.uow(), identity, schemas.admin_versions_query(request.args), page, size)
    return json_response(answers.version_page(result, c.blobs, with_reason=with_reason))
