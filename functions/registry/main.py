"""Entry points of the registry function: `registry` (HTTP API) and `registry_outbox_sweep` (Cloud Scheduler).

Both are deployed from this one source as separate functions, so each loads only what it uses, on its first
call (lazy initialisation, as Cloud Functions advises): the sweep never pays for the API's routes and models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework
from flask import Request, Response

from shared.settings import get_settings

# Settings are checked while the instance starts: a bad configuration fails the deploy (the instance never
# becomes ready), never a client's request. Everything else loads on first use.
get_settings()

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


@functions_framework.errorhandler(404)  # type: ignore[untyped-decorator]  # the package ships no types for it
def unrouted(error: Exception) -> Response:
    """functions-framework's catch-all rule misses some paths (a segment holding a line feed): the registry answers
    them like any other path, in JSON, instead of Flask's HTML 404 page."""
    from flask import current_app, request

    if current_app.name == "registry":
        return _api().dispatch(request)
    from shared.http.errors import body
    from shared.http.responses import json_response

    return json_response(body("not_found", f"No route for {request.method} {request.path}"), 404)
