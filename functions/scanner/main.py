"""Entry points of the scanner function: `scanner` (Cloud Storage object.finalized on the quarantine bucket),
`scanner_release` (Pub/Sub registry-events: releases after an admin activation or an unban; the scanner is the only
writer of public archives), `scanner_sweep` (Cloud Scheduler: scans that ran out of time, versions whose upload event
was lost, what an older rule set judged, releases left undone, or a full rescan with `?all=true`) and
`scanner_advisories_refresh` (Cloud Scheduler: OSV's malicious and compromised PyPI releases for DEP-COMPROMISED)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import functions_framework
from flask import Request, Response

from shared.observe.requests import observed_event
from shared.settings import get_settings

if TYPE_CHECKING:
    from functions.scanner.advisories_job import AdvisoryFeed
    from shared.bootstrap import Container
    from shared.http.router import Router

# Settings are checked while the instance starts: a bad configuration fails the deploy (the instance never
# becomes ready), never a client's request. Everything else loads on first use.
get_settings()

log = logging.getLogger(__name__)
# The engine and the database layer load on the first event (lazy initialisation): the entry points deployed from
# this source each pay only for what they use.


@functions_framework.cloud_event
@observed_event("scanner")
def scanner(cloud_event: Any) -> None:
    from functions.scanner import apply
    from shared import archives
    from shared.bootstrap import get_container

    data = cloud_event.data or {}
    name, bucket = str(data.get("name", "")), str(data.get("bucket", ""))
    c = get_container()
    if bucket != c.settings.uploads_bucket or not archives.is_archive(name):
        log.info("scanner: ignoring gs://%s/%s", bucket, name)
        return
    result = apply.scan_stored(c.uow(), c.blobs, apply.limits_from(c.settings), name, str(cloud_event["id"]))
    log.info("scanner: %s -> %s %s", name, result.outcome, result.status or "")


def handle_release_message(data: bytes, attributes: Mapping[str, str]) -> dict[str, int]:
    """Apply one registry event to the public releases. The local stack calls this for every in-process message;
    failures other than a malformed message raise, so that the message is delivered again."""
    from functions.scanner import release
    from shared.bootstrap import get_container
    from shared.messages import event_or_none

    event = event_or_none(data, attributes, "scanner_release")
    if event is None:
        return {}
    c = get_container()
    counts = release.apply_event(c.uow, c.blobs, event.type, event.payload)
    if counts:
        log.info("scanner_release: %s %s -> %s", event.type, event.id, counts)
    return counts


@functions_framework.cloud_event
@observed_event("scanner-release")
def scanner_release(cloud_event: Any) -> None:
    from shared.messages import push_or_none

    if (push := push_or_none(cloud_event, "scanner_release")) is not None:
        handle_release_message(*push)


def _sweep(request: Request, c: Container) -> Response:
    from functions.scanner import apply, sweep
    from shared.http.params import flag, integer
    from shared.http.responses import json_response

    counts = sweep.sweep(
        c.uow,
        c.blobs,
        apply.limits_from(c.settings),
        older_than_minutes=integer(
            request.args, "older_than_minutes", c.settings.scan_pending_minutes, minimum=1, maximum=5_256_000
        ),
        rescan_all=flag(request.args, "all"),
        max_versions=integer(request.args, "max_versions", 10_000, minimum=1, maximum=100_000),
        rescans_per_run=c.settings.scan_rescans_per_run,
        time_budget_seconds=c.settings.scan_sweep_seconds,
    )
    return json_response({"counts": counts})


@functions_framework.http
def scanner_sweep(request: Request) -> Response:
    """Only Cloud Scheduler may invoke it (IAM on the function)."""
    return _sweep_router().dispatch(request)


@cache
def _sweep_router() -> Router:
    from shared.bootstrap import get_container
    from shared.http.router import Route, Router

    return Router(
        [Route("POST", "/", _sweep, "scanSweep"), Route("GET", "/", _sweep, "scanSweepGet")], deps=get_container
    )


def _advisories_refresh(request: Request, c: Container) -> Response:
    from functions.scanner import advisories_job
    from shared.http.responses import json_response

    counts = advisories_job.refresh(
        advisory_feed(), c.blobs, url=c.settings.scan_advisories_url, max_bytes=c.settings.scan_advisories_max_bytes
    )
    advisories_job.forget_loaded()
    return json_response({"counts": counts})


def advisory_feed() -> AdvisoryFeed:
    """The adapter that downloads OSV's data (SCAN_ADVISORIES_URL; tests point it at a loopback server)."""
    from functions.scanner.advisories_job import HttpxAdvisoryFeed

    return HttpxAdvisoryFeed()


@functions_framework.http
def scanner_advisories_refresh(request: Request) -> Response:
    """Only Cloud Scheduler may invoke it (IAM on the function)."""
    return _advisories_router().dispatch(request)


@cache
def _advisories_router() -> Router:
    from shared.bootstrap import get_container
    from shared.http.router import Route, Router

    return Router([Route("POST", "/", _advisories_refresh, "scanAdvisoriesRefresh")], deps=get_container)
