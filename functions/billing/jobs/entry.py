"""The HTTP glue of billing's background entry points: read the request, run the job, answer JSON.

- `reconcile` (Cloud Scheduler, daily): the drift report, 200 whatever it found (a drift is a finding, not a failed
  run to retry); 5xx only when the run itself could not finish.
- `holds_sweep` (Cloud Scheduler): `functions.billing.jobs.holds.sweep(container)`.
- `usage_export` (Cloud Tasks): the task body `{"entry_id": ...}`; 200 when sent or nothing was left to do, 503 when
  Metronome did not take it (Cloud Tasks retries with the queue's backoff), 400 for a body that can never succeed
  (Cloud Tasks retries that too, so it is logged loudly), 404 for an entry without an export row.

Only their scheduler's or queue's service account may invoke these functions (IAM), so no caller check is made here."""

from __future__ import annotations

import logging

from flask import Request, Response

from shared.bootstrap import get_container
from shared.errors import InvalidInput
from shared.http.errors import to_response
from shared.http.responses import json_response
from shared.http.tasks import task_body

log = logging.getLogger(__name__)


def reconcile(request: Request) -> Response:
    from functions.billing.jobs import reconcile as job

    try:
        return json_response(job.run(get_container()))
    except Exception as exc:  # noqa: BLE001 - mapped to a status like every other error
        return to_response(exc)


def holds_sweep(request: Request) -> Response:
    from functions.billing.jobs.holds import sweep

    try:
        return json_response(sweep(get_container()))
    except Exception as exc:  # noqa: BLE001
        return to_response(exc)


def usage_export(request: Request) -> Response:
    from functions.billing.jobs import export

    try:
        payload = task_body(request)
        return json_response(export.run_task(get_container(), payload))
    except InvalidInput as exc:
        log.error("usage-export task with an unusable body: %s", exc.message)
        return to_response(exc)
    except Exception as exc:  # noqa: BLE001 - ExportFailed is an Unavailable: 503, and Cloud Tasks retries
        return to_response(exc)
