"""`/proxy/health`, and `/proxy/openapi`: the gateway's document."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Request, Response

from shared.bootstrap import Container
from shared.http import docs
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
    return json_response(docs.served_spec(spec(), request, c.settings))


def docs_page(request: Request, c: Container) -> Response:
    return docs.page("ComfyUI partner gateway", "/proxy/openapi", "/proxy/docs")


def docs_asset(request: Request, c: Container, name: str) -> Response:
    return docs.asset(name)


PATHS = ("health", "openapi", "docs")


def owns(partner: str, rest: str) -> bool:
    """Whether /proxy/<partner>/<rest> is one of the gateway's own pages (any path under /proxy/docs is)."""
    return partner in PATHS and (not rest or partner == "docs")


ROUTES = [
    Route("GET", "/proxy/health", health, "proxyHealth"),
    Route("GET", "/proxy/openapi", openapi, "getProxyOpenapi"),
    Route("GET", "/proxy/docs", docs_page, "getProxyDocs"),
    Route("GET", "/proxy/docs/<name>", docs_asset, "getProxyDocsAsset"),
]
