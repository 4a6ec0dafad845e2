"""Entry points of the registry: one HTTP function per API area, and `registry_outbox_sweep` (Cloud Scheduler).

Each is deployed from this one source as a function of its own (shared/routing.py, terraform/functions.tf), with
its own service account and database role, so an area deploys, scales and rolls back alone. Each loads only its
area, on its first call (lazy initialisation, as Cloud Functions advises)."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.observe.requests import observed_http
from shared.settings import get_settings

# Settings are checked while the instance starts: a bad configuration fails the deploy (the instance never
# becomes ready), never a client's request. Everything else loads on first use.
get_settings()

# entry point -> area (functions/registry/app.py)
ENTRY_POINTS = {
    "registry": "reads",
    "registry_publishing": "publishing",
    "registry_community": "community",
    "registry_moderation": "moderation",
    "registry_ci": "ci",
    "registry_comfy_nodes": "comfy_nodes",
    "registry_releases": "releases",
}


def _dispatch(area: str, request: Request) -> Response:
    from functions.registry.app import router

    return router(area).dispatch(request)


@functions_framework.http
def registry(request: Request) -> Response:
    """The public reads and install; behind the load balancer it also answers every path no other function owns."""
    return _dispatch("reads", request)


@functions_framework.http
def registry_publishing(request: Request) -> Response:
    return _dispatch("publishing", request)


@functions_framework.http
def registry_community(request: Request) -> Response:
    return _dispatch("community", request)


@functions_framework.http
def registry_moderation(request: Request) -> Response:
    return _dispatch("moderation", request)


@functions_framework.http
def registry_ci(request: Request) -> Response:
    return _dispatch("ci", request)


@functions_framework.http
def registry_comfy_nodes(request: Request) -> Response:
    return _dispatch("comfy_nodes", request)


@functions_framework.http
def registry_releases(request: Request) -> Response:
    return _dispatch("releases", request)


@functions_framework.http
@observed_http
def registry_outbox_sweep(request: Request) -> Response:
    """Sends the events that a relay after commit could not. Only Cloud Scheduler may invoke it (IAM)."""
    from shared import outbox
    from shared.bootstrap import get_container
    from shared.http.responses import json_response

    c = get_container()
    return json_response({"sent": outbox.sweep(c.sessions, c.publisher)})


@functions_framework.errorhandler(404)  # type: ignore[untyped-decorator]  # the package ships no types for it
def unrouted(error: Exception) -> Response:
    """functions-framework's catch-all rule misses some paths (a segment holding a line feed): the area answers
    them like any other path, in JSON, instead of Flask's HTML 404 page."""
    from flask import current_app, request

    if (area := ENTRY_POINTS.get(current_app.name)) is not None:
        return _dispatch(area, request)
    from shared.http.errors import body
    from shared.http.responses import json_response

    return json_response(body("not_found", f"No route for {request.method} {request.path}"), 404)
