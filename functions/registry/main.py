"""Entry points of the registry function. Deployed as `registry` (HTTP)."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from functions.registry.routes import router


@functions_framework.http
def registry(request: Request) -> Response:
    return router.dispatch(request)
