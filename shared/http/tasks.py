"""The body of a Cloud Tasks (or scheduler) request to a background entry point: a small JSON object, or 400."""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from shared.errors import InvalidInput

MAX_TASK_BYTES = 4096


def task_body(request: Request, *, empty: str = "null") -> dict[str, Any]:
    """The JSON object the task carries (`empty` stands for an empty body); InvalidInput for anything else."""
    raw = request.get_data(cache=False)
    if len(raw) > MAX_TASK_BYTES:
        raise InvalidInput("The task body is too large.", code="invalid_task")
    try:
        payload = json.loads(raw or empty.encode())
    except ValueError:
        raise InvalidInput("The task body is not JSON.", code="invalid_task") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The task body must be a JSON object.", code="invalid_task")
    return payload
