"""`/billing/health`, and `/billing/openapi`: the billing document (the core file's components and each area's
paths from the `openapi.yaml` in its folder)."""

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

BILLING = Path(__file__).resolve().parent.parent
SPEC_PATH = BILLING / "openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return assemble(BILLING)


def health(request: Request, c: Container) -> Response:
    return Response("OK", mimetype="text/plain")


def openapi(request: Request, c: Container) -> Response:
    return json_response(docs.served_spec(spec(), request, c.settings))


def docs_page(request: Request, c: Container) -> Response:
    return docs.page("ComfyUI billing API", "/billing/openapi", "/billing/docs")


def docs_asset(request: Request, c: Container, name: str) -> Response:
    return docs.asset(name)


ROUTES = [
    Route("GET", "/billing/health", health, "billingHealth"),
    Route("GET", "/billing/openapi", openapi, "getBillingOpenapi"),
    Route("GET", "/billing/docs", docs_page, "getBillingDocs"),
    Route("GET", "/billing/docs/<name>", docs_asset, "getBillingDocsAsset"),
]
