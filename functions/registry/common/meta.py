"""What every registry function answers besides its area: `/health`, and `/openapi`, the whole registry's document
(the core file's components, and each area's paths from the `openapi.yaml` in its folder)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Request, Response

from shared.bootstrap import Container
from shared.http import docs
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
    return json_response(docs.served_spec(spec(), request, c.settings))


def docs_page(request: Request, c: Container) -> Response:
    return docs.page("ComfyUI registry API", "/openapi", "/docs")


def docs_asset(request: Request, c: Container, name: str) -> Response:
    return docs.asset(name)


ROUTES = [
    Route("GET", "/health", health, "health"),
    Route("GET", "/openapi", openapi, "getOpenapi"),
    Route("GET", "/docs", docs_page, "getDocs"),
    Route("GET", "/docs/<name>", docs_asset, "getDocsAsset"),
]
