"""The scheduled endpoints (`/security-scan`, `/nodes/reindex`, `/comfy-nodes/backfill`): Cloud Scheduler calls
them with a Google OIDC token of an allowed service account; each only queues work as outbox events."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Request, Response
from werkzeug.datastructures import MultiDict

from functions.registry.handlers.common import container, service_account
from functions.registry.usecases import jobs
from shared.errors import InvalidInput
from shared.http import params
from shared.http.responses import json_response
from shared.http.router import Route

MAX_JOB_ITEMS = 1000
MAX_REINDEX_BATCH = 10_000
MAX_DURATION = timedelta(days=3650)
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """A Go duration (`90s`, `30m`, `1h30m`, `1.5h`, `0`); anything else, or a negative one, is InvalidInput."""
    if text == "0":
        return timedelta(0)
    invalid = InvalidInput(f"Invalid duration {text!r}: use a Go duration such as 90s, 30m or 24h")
    if not text:
        raise invalid
    seconds, pos = 0.0, 0
    while pos < len(text):
        part = _DURATION_PART.match(text, pos)
        if part is None:
            raise invalid
        seconds += float(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        pos = part.end()
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInput(f"Duration {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def duration_arg(args: MultiDict[str, str], name: str) -> timedelta | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_duration(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"Query parameter {name}: {exc.message}", code="invalid_duration") from exc


def summary(result: jobs.Requested) -> dict[str, Any]:
    return {
        "requested": len(result.versions),
        "versions": [{"node_id": v.node_id, "version": v.version} for v in result.versions],
    }


def security_scan(request: Request) -> Response:
    account = service_account(request)
    min_age = duration_arg(request.args, "minAge") or timedelta(minutes=30)
    max_nodes = params.integer(request.args, "maxNodes", 50, minimum=1, maximum=MAX_JOB_ITEMS, clamp=False)
    return json_response(summary(jobs.request_scans(container().uow(), account, min_age, max_nodes)))


def reindex(request: Request) -> Response:
    account = service_account(request)
    max_batch = params.integer(request.args, "max_batch", 0, minimum=1, maximum=MAX_REINDEX_BATCH, clamp=False)
    min_age = duration_arg(request.args, "min_age")
    jobs.request_reindex(container().uow(), account, max_batch or None, min_age)
    seconds = min_age.total_seconds() if min_age is not None else None
    return json_response({"queued": True, "max_batch": max_batch or None, "min_age_seconds": seconds}, 202)


def backfill(request: Request) -> Response:
    account = service_account(request)
    max_node = params.integer(request.args, "max_node", 10, minimum=1, maximum=MAX_JOB_ITEMS, clamp=False)
    return json_response(summary(jobs.request_extractions(container().uow(), account, max_node)))


ROUTES: list[Route] = [
    Route("GET", "/security-scan", security_scan, "securityScan"),
    Route("POST", "/nodes/reindex", reindex, "reindexNodes"),
    Route("POST", "/comfy-nodes/backfill", backfill, "ComfyNodesBackfill"),
]
