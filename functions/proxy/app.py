"""The gateway's HTTP surface: /proxy/<partner>/... behind the input guard, with `X-Comfy-Request-Id` on every
answer (the same id is written into the charge's ledger entry)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import cache

from flask import Request, Response

from functions.proxy import meta
from functions.proxy.gateway.routes import ROUTES
from functions.proxy.gateway.schemas import MAX_BODY
from functions.proxy.limits.routes import ROUTES as LIMIT_ROUTES
from shared.bootstrap import get_container
from shared.http.guard import guarded
from shared.http.router import Router

REQUEST_ID = "X-Comfy-Request-Id"


def _cors_origins() -> list[str]:
    return get_container().settings.cors_origin_list


@cache
def router() -> Router:
    routes = [replace(r, handler=guarded(r.handler, MAX_BODY)) for r in (*meta.ROUTES, *ROUTES, *LIMIT_ROUTES)]
    return Router(routes, deps=get_container, cors_origins=_cors_origins, max_body=MAX_BODY)


def dispatch(request: Request) -> Response:
    request_id = uuid.uuid4().hex
    request.environ["comfy.request_id"] = request_id
    response = router().dispatch(request)
    response.headers[REQUEST_ID] = request_id
    return response
