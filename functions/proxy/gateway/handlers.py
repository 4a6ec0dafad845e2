"""The gateway's one handler: who is calling, what they call, and the partner's answer back."""

from __future__ import annotations

from flask import Request, Response

from functions.proxy import meta
from functions.proxy.gateway import schemas, serializers
from functions.proxy.gateway.usecases import calls
from functions.proxy.gateway.wiring import gateway_of
from shared.billing.callers import identify
from shared.bootstrap import Container
from shared.errors import MethodNotAllowed


def call(request: Request, c: Container, partner: str, rest: str = "") -> Response:
    """Any method under /proxy/<partner>/...: a Firebase bearer or an API key (X-API-Key), else 401."""
    if meta.owns(partner, rest):  # /proxy/health, /proxy/openapi and /proxy/docs/* are GETs of the gateway's own
        raise MethodNotAllowed("Use one of: GET", allowed=["GET"])
    who = identify(request.headers, request.path, c.verifier, c.billing_uow)
    answer = calls.forward(gateway_of(c), who, schemas.call_from(request, partner, rest))
    return serializers.response(answer)
