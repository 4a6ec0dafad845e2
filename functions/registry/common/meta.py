"""What every registry function answers besides its area: `/health`, and `/openapi`, the whole registry's document
(the core file's components, and each area's paths from the `openapi.yaml` in its folder)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Request, Response

from shared.bootstrap import Container
from shared.http.responses import json_response
from shared.http.router import Route
from shared.openapi import assemble

REGISTRY = Path(__file__).resolve().parent.parent
SPEC_PATH = REGISTRY / "openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return assemble(REGISTRY)


def health(request: Request, c: Container) -> Response:
    return Response("OK", mimetype="text/plain")


def openapi(request: Request, c: Container) -> Response:
    return json_response(spec())


ROUTES = [
    Route("GET", "/health", health, "health"),
    Route("GET", "/openapi", openapi, "getOpenapi"),
]
