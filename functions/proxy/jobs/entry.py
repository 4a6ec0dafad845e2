"""The HTTP glue of proxy-job-settle (a task body `{"job_id": ...}` follows that job) and proxy-jobs-sweep (every job
whose look is due). 200 with what became of them; errors as everywhere else. Only the queue's or the scheduler's
service account may invoke them (IAM), so no caller check is made here."""

from __future__ import annotations

from flask import Request, Response

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.jobs.settle import follow, follow_due
from shared.bootstrap import get_container
from shared.errors import InvalidInput
from shared.http.errors import to_response
from shared.http.responses import json_response
from shared.http.tasks import task_body


def settle_task(request: Request) -> Response:
    try:
        payload = task_body(request, empty="{}")
        gw = gateway_of(get_container())
        job_id = payload.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise InvalidInput("job_id must be a non-empty string.", code="invalid_task")
        return json_response({"job_id": job_id, "status": follow(gw, job_id)})
    except Exception as exc:  # noqa: BLE001 - mapped to a status like every other error
        return to_response(exc)


def sweep(request: Request) -> Response:
    try:
        return json_response({"followed": follow_due(gateway_of(get_container()))})
    except Exception as exc:  # noqa: BLE001
        return to_response(exc)
