"""Partner-node limits over HTTP: the caller's own (a Firebase bearer or an API key), and an operator's
(`X-Comfy-Admin-Secret`)."""

from __future__ import annotations

from flask import Request, Response

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.limits import schemas, serializers, usecases
from shared.billing.callers import identify, require_admin_secret
from shared.bootstrap import Container
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response


def my_concurrency(request: Request, c: Container) -> Response:
    who = identify(request.headers, request.path, c.verifier, c.billing_uow)
    return json_response(serializers.mine(usecases.mine(gateway_of(c), who)))


def customer_override(request: Request, c: Container, customer_id: str) -> Response:
    _admin(request, c)
    return json_response(serializers.customer(usecases.of_customer(gateway_of(c), customer_id)))


def set_customer_override(request: Request, c: Container, customer_id: str) -> Response:
    _admin(request, c)
    body = params.json_body(request, schemas.OverrideIn)
    if body.override is None:
        raise InvalidInput("override is required; DELETE clears it.", code="invalid_override")
    usecases.pin_customer(gateway_of(c), customer_id, body.override)
    return json_response(serializers.message("Override set."))


def clear_customer_override(request: Request, c: Container, customer_id: str) -> Response:
    _admin(request, c)
    usecases.unpin_customer(gateway_of(c), customer_id)
    return json_response(serializers.message("Override cleared."))


def model_overrides(request: Request, c: Container) -> Response:
    _admin(request, c)
    return json_response({"models": [serializers.classification(m) for m in usecases.models(gateway_of(c))]})


def model_override(request: Request, c: Container, model: str) -> Response:
    _admin(request, c)
    return json_response(serializers.classification(usecases.model(gateway_of(c), model)))


def set_model_override(request: Request, c: Container, model: str) -> Response:
    _admin(request, c)
    usecases.pin_model(gateway_of(c), model, params.json_body(request, schemas.TierIn).tier)
    return json_response(serializers.message("Override set."))


def clear_model_override(request: Request, c: Container, model: str) -> Response:
    _admin(request, c)
    usecases.unpin_model(gateway_of(c), model)
    return json_response(serializers.message("Override cleared."))


def _admin(request: Request, c: Container) -> None:
    require_admin_secret(request.headers.get("X-Comfy-Admin-Secret"), c.settings.admin_secret_digest)
