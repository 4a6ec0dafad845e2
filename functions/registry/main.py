"""Entry points of the registry function: `registry` (HTTP API) and `registry_outbox_sweep` (Cloud Scheduler).

Both are deployed from this one source as separate functions, so each loads only what it uses, on its first
call (lazy initialisation, as Cloud Functions advises): the sweep never pays for the API's routes and models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework
from flask import Request, Response

if TYPE_CHECKING:
    from shared.http.router import Router

_router: Router | None = None


def _api() -> Router:
    global _router
    if _router is None:
        from functions.registry.routes import router

        _router = router
    return _router


@functions_framework.http
def registry(request: Request) -> Response:
    return _api().dispatch(request)


@functions_framework.http
def registry_outbox_sweep(request: Request) -> Response:
    """Sends the events that a relay after commit could not. Only Cloud Scheduler may invoke it (IAM)."""
    from shared import outbox
    from shared.bootstrap import get_container
    from shared.http.responses import json_response

    c = get_container()
    return json_response({"sent": outbox.sweep(c.sessions, c.publisher)})
