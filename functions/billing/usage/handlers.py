"""Usage: the customer's dashboard link and spend series, and the admin's TrackCustomerUsage and Metronome archive."""

from __future__ import annotations

from flask import Request, Response

from functions.billing.common.http import admin_secret, caller
from functions.billing.usage import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http import params
from shared.http.responses import json_response

SERIES_PATH = "/customers/usage/timeseries"


def dashboard(request: Request, c: Container) -> Response:
    who = caller(request, c)
    body = params.json_body(request, schemas.DashboardIn) if request.content_length else schemas.DashboardIn()
    url = usecases.dashboard(
        c.billing_uow(), c.usage_meter, who, body.dashboard_type, body.colors(), c.settings.base_url + SERIES_PATH
    )
    return json_response(serializers.dashboard(url))


def timeseries(request: Request, c: Container) -> Response:
    who = caller(request, c)
    series = usecases.timeseries(c.billing_uow(), who, schemas.series_query(request.args))
    return json_response(serializers.series(series))


def track(request: Request, c: Container, customer_id: str) -> Response:
    admin_secret(request, c)
    body = params.json_body(request, schemas.TrackIn)
    result = usecases.track(c.billing_uow(), customer_id, body.tracked())
    return json_response(serializers.tracked(result))


def archive_metronome(request: Request, c: Container, customer_id: str) -> Response:
    admin_secret(request, c)
    done = usecases.archive_metronome(c.billing_uow(), c.usage_meter, customer_id)
    return json_response(serializers.archived(done))
