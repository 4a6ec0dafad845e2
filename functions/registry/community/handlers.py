"""What users add to a node: star reviews, and the translations its publisher provides."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.common.http import caller
from functions.registry.community import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http import params
from shared.http.responses import json_response


def post_review(request: Request, c: Container, node_id: str) -> Response:
    identity = caller(request, c)
    row = usecases.review(c.uow(), identity, node_id, schemas.star(request.args))
    return json_response(serializers.reviewed(row, c.blobs))


def create_translations(request: Request, c: Container, node_id: str) -> Response:
    identity = caller(request, c)
    body = params.json_body(request, schemas.TranslationsIn)
    row = usecases.set_translations(c.uow(), identity, node_id, body.data)
    return json_response(serializers.translated(row, c.blobs), 201)
