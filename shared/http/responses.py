"""Building responses."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(payload, status=status, mimetype="application/json", headers=headers)


def no_content() -> Response:
    return Response(status=204)
