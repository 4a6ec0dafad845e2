"""`/health` and `/openapi`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from flask import Request, Response

from shared.http.responses import json_response

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def health(request: Request) -> Response:
    return Response("OK", mimetype="text/plain")


def openapi(request: Request) -> Response:
    return json_response(spec())
