"""Entry points of the indexer function: `indexer` (Pub/Sub push on registry-events, a CloudEvent) and
`indexer_reindex` (Cloud Scheduler: the full reindex, or the download-count sync with `?mode=downloads`).

Only IAM protects `indexer_reindex`: it is deployed private, and only the scheduler's service account may invoke
it, as the registry's scheduled jobs are.

The settings are checked on load (a bad configuration fails the start); the use cases, the database layer and the
search adapters load on the first call (lazy initialisation, as the registry and the scanner do)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import functions_framework

# Re-exported: callers decode pushes through this module, as before the decoding moved to shared/
from shared.messages import Event, MalformedMessage, event_or_none, parse_event, push_message, push_or_none
from shared.observe.requests import observed_event, observed_http
from shared.settings import get_settings

# Settings are checked while the instance starts: a bad configuration fails the deploy (the instance never
# becomes ready), never a client's request. Everything else loads on first use.
get_settings()

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent
    from flask import Request, Response

__all__ = ["MalformedMessage", "handle_message", "indexer", "indexer_reindex", "parse_event", "push_message"]

log = logging.getLogger(__name__)


def handle_message(data: bytes, attributes: Mapping[str, str]) -> str:
    """Apply one registry event; what happened (`applied`, `duplicate`, `ignored`, `reindexed`, `malformed`).
    The local stack calls this for every in-process message; failures other than a malformed message raise, so
    that the message is delivered again."""
    event = event_or_none(data, attributes, "indexer")
    if event is None:
        return "malformed"
    from functions.indexer import usecases
    from shared.bootstrap import get_container

    if event.type == usecases.REINDEX_REQUESTED:
        return _requested_reindex(event)
    c = get_container()
    return usecases.apply_event(c.uow, c.search, event)


def _requested_reindex(event: Event) -> str:
    """`POST /nodes/reindex` queued this: resume or start a reindex within the time budget; the scheduled run
    finishes whatever is left."""
    from datetime import timedelta

    from functions.indexer import reindex as full
    from functions.indexer import usecases
    from shared.bootstrap import get_container

    c = get_container()
    if not usecases.first_time(c.uow, event):
        return "duplicate"
    batch = event.payload.get("max_batch")
    age = event.payload.get("min_age_seconds")
    result = full.reindex(
        c.uow,
        c.search,
        batch=batch if isinstance(batch, int) and batch > 0 else c.settings.search_reindex_batch,
        resume=True,
        min_age=timedelta(seconds=age) if isinstance(age, int | float) and age > 0 else None,
        budget_seconds=c.settings.search_requested_reindex_budget_seconds,
    )
    log.info("indexer: requested reindex %s: %s", event.id, result)
    return "reindexed"


@functions_framework.cloud_event
@observed_event("indexer")
def indexer(cloud_event: CloudEvent) -> None:
    if (push := push_or_none(cloud_event, "indexer")) is not None:
        handle_message(*push)


@functions_framework.http
@observed_http
def indexer_reindex(request: Request) -> Response:
    """`mode=full` (default): the full reindex, resuming an unfinished one unless `resume=false`; `batch` nodes
    at a time. `mode=downloads`: send the records whose download count changed, `batch` at most."""
    from shared.http.errors import to_response
    from shared.http.responses import json_response

    try:
        return json_response(_run_job(request))
    except Exception as exc:  # noqa: BLE001 - mapped to a status like every other error
        return to_response(exc)


def _run_job(request: Request) -> dict[str, Any]:
    from functions.indexer import reindex as full
    from functions.indexer import usecases
    from shared.bootstrap import get_container
    from shared.errors import InvalidInput
    from shared.http import params

    c = get_container()
    mode = request.args.get("mode", "full")
    if mode == "downloads":
        limit = params.integer(
            request.args, "batch", c.settings.search_sync_batch, minimum=1, maximum=100_000, clamp=False
        )
        return {"mode": mode, "sent": usecases.sync_downloads(c.uow, c.search, limit)}
    if mode != "full":
        raise InvalidInput(f"mode must be full or downloads, got {mode!r}", code="invalid_mode")
    batch = params.integer(
        request.args, "batch", c.settings.search_reindex_batch, minimum=1, maximum=10_000, clamp=False
    )
    resume = params.boolean(request.args, "resume", True)
    result = full.reindex(
        c.uow, c.search, batch=batch, resume=bool(resume), budget_seconds=c.settings.search_reindex_budget_seconds
    )
    return {"mode": mode, **result.__dict__}
