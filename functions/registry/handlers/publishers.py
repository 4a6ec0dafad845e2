"""Users, publishers and personal access tokens."""

from __future__ import annotations

from flask import Request, Response

from functions.registry import serializers
from functions.registry.handlers.common import caller, container
from functions.registry.schemas import PublisherIn, TokenIn
from functions.registry.usecases import publishers, tokens
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response, no_content


def get_user(request: Request) -> Response:
    return json_response(serializers.user(publishers.me(container().uow(), caller(request))))


def list_user_publishers(request: Request) -> Response:
    rows = publishers.list_for_user(container().uow(), caller(request))
    return json_response([serializers.publisher(p) for p in rows])


def list_publishers(request: Request) -> Response:
    rows = publishers.list_all(container().uow(), caller(request))
    return json_response([serializers.publisher(p, members=False) for p in rows])


def create_publisher(request: Request) -> Response:
    identity = caller(request)
    body = params.json_body(request, PublisherIn)
    row = publishers.create(container().uow(), identity, body, container().settings.max_publishers_per_user)
    return json_response(serializers.publisher(row), 201)


def validate_publisher(request: Request) -> Response:
    username = request.args.get("username", "")
    if not publishers.validate_id(container().uow(), username):
        raise InvalidInput("Publisher ID already exists.", code="publisher_exists")
    return json_response({"isAvailable": True})


def get_publisher(request: Request, publisher_id: str) -> Response:
    return json_response(serializers.publisher(publishers.get(container().uow(), publisher_id)))


def update_publisher(request: Request, publisher_id: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, PublisherIn)
    row = publishers.update(container().uow(), identity, publisher_id, body)
    return json_response(serializers.publisher(row))


def delete_publisher(request: Request, publisher_id: str) -> Response:
    publishers.delete(container().uow(), caller(request), publisher_id)
    return no_content()


def publisher_permissions(request: Request, publisher_id: str) -> Response:
    return json_response({"canEdit": publishers.can_edit(container().uow(), caller(request), publisher_id)})


def list_tokens(request: Request, publisher_id: str) -> Response:
    rows = tokens.list_for(container().uow(), caller(request), publisher_id)
    return json_response([serializers.token(t) for t in rows])


def create_token(request: Request, publisher_id: str) -> Response:
    identity = caller(request)
    body = params.json_body(request, TokenIn)
    issued = tokens.create(container().uow(), identity, publisher_id, body, container().settings.token_default_ttl_days)
    return json_response(serializers.token(issued.row, value=issued.value), 201)


def delete_token(request: Request, publisher_id: str, token_id: str) -> Response:
    identity = caller(request)
    tokens.delete(container().uow(), identity, publisher_id, params.uuid_param(token_id, "tokenId"))
    return no_content()
