"""The gateway's HTTP surface: /proxy/<partner>/..., the Comfy Router (/v2) and the partner-node limits, behind the
input guard, with `X-Comfy-Request-Id` on every answer (the same id is written into the charge's ledger entry)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import cache

from flask import Request, Response

from functions.proxy import meta
from functions.proxy.gateway.routes import ROUTES
from functions.proxy.gateway.schemas import MAX_BODY
from functions.proxy.limits.routes import ROUTES as LIMIT_ROUTES
from functions.proxy.router.routes import ROUTES as ROUTER_ROUTES
from shared.bootstrap import get_container
from shared.http.errors import to_router_response
from shared.http.guard import guarded
from shared.http.router import Route, Router

REQUEST_ID = "X-Comfy-Request-Id"


def _cors_origins() -> list[str]:
    return get_container().settings.cors_origin_list


def _guarded(routes: list[Route]) -> list[Route]:
    return [replace(r, handler=guarded(r.handler, MAX_BODY)) for r in routes]


@cache
def router() -> Router:
    routes = _guarded([*meta.ROUTES, *ROUTES, *LIMIT_ROUTES])
    return Router(routes, deps=get_container, cors_origins=_cors_origins, max_body=MAX_BODY)


@cache
def model_router() -> Router:
    """The Comfy Router (/v2): its own error contract (`{"detail", "error_type"}`)."""
    return Router(
        _guarded(ROUTER_ROUTES),
        deps=get_container,
        cors_origins=_cors_origins,
        max_body=MAX_BODY,
        render_error=to_router_response,
    )


def dispatch(request: Request) -> Response:
    request_id = uuid.uuid4().hex
    request.environ["comfy.request_id"] = request_id
    serving = model_router() if request.path == "/v2" or request.path.startswith("/v2/") else router()
    response = serving.dispatch(request)
    response.headers[REQUEST_ID] = request_id
    return response
