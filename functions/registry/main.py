"""Entry points of the registry function: `registry` (HTTP API) and `registry_outbox_sweep` (Cloud Scheduler)."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from functions.registry.routes import router
from shared import outbox
from shared.bootstrap import get_container
from shared.http.responses import json_response


@functions_framework.http
def registry(request: Request) -> Response:
    return router.dispatch(request)


@functions_framework.http
def registry_outbox_sweep(request: Request) -> Response:
    """Sends the events that a relay after commit could not. Only Cloud Scheduler may invoke it (IAM)."""
    c = get_container()
    return json_response({"sent": outbox.sweep(c.sessions, c.publisher)})
