"""The Comfy Router over HTTP: every route authenticated (a Firebase bearer or an API key), behind the enablement
gate, answered in the Router's error contract."""

from __future__ import annotations

import uuid

from flask import Request, Response

from functions.proxy.gateway import serializers as gateway_serializers
from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.router import schemas, serializers
from functions.proxy.router.usecases import catalog
from functions.proxy.router.usecases.run import Waiting, run
from shared.billing.callers import Caller, identify
from shared.bootstrap import Container
from shared.http.responses import json_response


def list_models(request: Request, c: Container) -> Response:
    _caller(request, c)
    cursor, limit = schemas.page_args(request)
    return json_response(serializers.page(catalog.page(cursor, limit)))


def get_model(request: Request, c: Container, provider: str, model: str) -> Response:
    _caller(request, c)
    return json_response(serializers.detail(catalog.find(provider, model), c.settings.base_url))


def model_document(request: Request, c: Container, provider: str, model: str) -> Response:
    _caller(request, c)
    data, tag = serializers.document_bytes(catalog.document(catalog.find(provider, model)))
    held = schemas.if_none_match(request)
    headers = {"ETag": tag, "Cache-Control": serializers.SCHEMA_CACHE}
    if tag in held or "*" in held:
        return Response(status=304, headers=headers)
    return Response(data, mimetype="application/json", headers=headers)


def run_model(request: Request, c: Container, provider: str, model: str) -> Response:
    who = _caller(request, c)
    found = catalog.find(provider, model)
    body, key = schemas.run_body(request), schemas.idempotency_key(request)
    s = c.settings
    wait = Waiting(s.proxy_router_deadline_seconds, s.proxy_router_poll_seconds)
    request_id = request.environ.get("comfy.request_id") or uuid.uuid4().hex
    answer = run(gateway_of(c), who, found, body, key, request_id, wait)
    return gateway_serializers.response(answer)


def _caller(request: Request, c: Container) -> Caller:
    who = identify(request.headers, request.path, c.verifier, c.billing_uow)
    catalog.require_enabled(c.settings.proxy_router_enabled)
    return who
