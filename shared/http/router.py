"""Dispatch a function's requests by its route table; map every error once; answer CORS for the allowed origins;
log one line per request (shared/observe/requests.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Request, Response
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule

from shared import errors
from shared.http import body
from shared.http.errors import to_response
from shared.observe import requests as observe

log = logging.getLogger(__name__)

Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    """`handler(request, deps, **path_values)` answers `method path`; `deps` is what the router's provider gives
    (a function's Container)."""

    method: str
    path: str  # werkzeug rule syntax: /nodes/<node_id>
    handler: Handler
    operation_id: str


def _no_origins() -> Sequence[str]:
    return ()


def _no_deps() -> None:
    return None


class Router:
    def __init__(
        self,
        routes: Sequence[Route],
        *,
        deps: Callable[[], Any] = _no_deps,
        cors_origins: Callable[[], Sequence[str]] = _no_origins,
        max_body: int = body.MAX_ANY_BODY,
        render_error: Callable[[Exception], Response] = to_response,
    ) -> None:
        """`deps` gives what handlers receive, and `cors_origins` the allowed origins, when a request asks (the
        container is built on the first request, not at import)."""
        self.routes = list(routes)
        self._deps = deps
        self._cors_origins = cors_origins
        self._max_body = max_body
        self._render_error = render_error
        rules = [Rule(r.path, endpoint=i, methods=[r.method]) for i, r in enumerate(self.routes)]
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)

    def dispatch(self, request: Request) -> Response:
        """The answer, with the request id (`X-Comfy-Request-Id`) that the request's log line has."""
        return observe.serve(request, self._deps, lambda: self._answer(request))

    def _answer(self, request: Request) -> Response:
        body.cap_stream(request, self._max_body)
        if request.method == "OPTIONS":
            return self._cors(request, Response(status=204))
        try:
            adapter = self._map.bind("localhost", path_info=request.path, url_scheme="http")
            index, args = adapter.match(request.path, method=request.method)
            response = self.routes[index].handler(request, self._deps(), **args)
        except RouteNotFound:
            response = self._render_error(errors.NotFound(f"No route for {request.method} {request.path}"))
        except MethodNotAllowed as exc:
            allowed = sorted(exc.valid_methods or [])
            response = self._render_error(errors.MethodNotAllowed(f"Use one of: {', '.join(allowed)}", allowed=allowed))
        except Exception as exc:  # noqa: BLE001 - the one place errors become responses
            response = self._render_error(exc)
        # Shared caches (the CDN) keep only what a handler marked public; anything else may be the caller's own.
        response.headers.setdefault("Cache-Control", "private")
        return self._cors(request, response)

    def matches(self, method: str, path: str) -> bool:
        try:
            self._map.bind("localhost").match(path.split("?")[0], method=method)
        except (RouteNotFound, MethodNotAllowed):
            return False
        return True

    def __call__(self, request: Request) -> Response:
        return self.dispatch(request)

    def _cors(self, request: Request, response: Response) -> Response:
        """A listed origin may call with credentials; with `*` listed, any other origin may read without them (we
        authenticate by bearer header, never by cookie, so a credential-less answer gives a page nothing of the
        user's); anything else gets no CORS headers, and the browser keeps the answer from the page."""
        origin = request.headers.get("Origin")
        if not origin:
            return response
        allowed = self._cors_origins()
        response.headers.add("Vary", "Origin")
        if origin.rstrip("/") in allowed and origin != "*":
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        elif "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            return response
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            requested = request.headers.get("Access-Control-Request-Headers")
            response.headers["Access-Control-Allow-Headers"] = requested or "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = "3600"
        return response


def describe(routes: Sequence[Route]) -> list[dict[str, Any]]:
    return [{"method": r.method, "path": r.path, "operationId": r.operation_id} for r in routes]
