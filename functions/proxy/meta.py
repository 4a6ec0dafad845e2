"""`/proxy/health`, and `/proxy/openapi`: the gateway's document."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Request, Response

from shared.bootstrap import Container
from shared.http.responses import json_response
from shared.http.router import Route
from shared.openapi import load

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return load(SPEC_PATH)


def health(request: Request, c: Container) -> Response:
    return Response("OK", mimetype="text/plain")


def openapi(request: Request, c: Container) -> Response:
    return json_response(spec())


PATHS = ("health", "openapi")
ROUTES = [
    Route("GET", "/proxy/health", health, "proxyHealth"),
    Route("GET", "/proxy/openapi", openapi, "getProxyOpenapi"),
]
