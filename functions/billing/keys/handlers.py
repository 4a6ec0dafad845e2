"""API keys, their verification and deletion sync (admin secret), and admin tokens."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.common.http import admin_secret, caller
from functions.billing.keys import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http import params
from shared.http.responses import json_response, no_content


def list_keys(request: Request, c: Container) -> Response:
    rows = usecases.list_keys(c.billing_uow(), caller(request, c))
    return json_response(serializers.keys(list(rows)))


def create_key(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.CreateKeyIn)
    ttl = c.settings.api_key_default_ttl_days
    new = usecases.create(c.billing_uow(), who, body.name, body.description, body.expires_at, ttl)
    return json_response(serializers.created(new), 201)


def delete_key(request: Request, c: Container, api_key_id: str) -> Response:
    usecases.delete(c.billing_uow(), caller(request, c), api_key_id)
    return no_content()


def verify_key(request: Request, c: Container) -> Response:
    admin_secret(request, c)
    body = params.json_body(request, schemas.VerifyKeyIn)
    return json_response(
        serializers.verified(usecases.verify(c.billing_uow(), body.api_key, body.include_customer_keys))
    )


def sync_deletion(request: Request, c: Container) -> Response:
    admin_secret(request, c)
    body = params.json_body(request, schemas.SyncDeletionIn)
    return json_response({"result": usecases.sync_deletion(c.billing_uow(), body.customer_id, body.key_hash)})


def generate_token(request: Request, c: Container) -> Response:
    new = usecases.admin_token(c.billing_uow(), caller(request, c), c.settings.admin_token_ttl_seconds)
    return json_response(serializers.admin_token(new))
