"""Entry points of the gateway: `proxy` (HTTP, every /proxy path), `proxy_job_settle` (the Cloud Tasks target that
follows a job nobody polls to its end and settles it) and `proxy_jobs_sweep` (Cloud Scheduler: the jobs whose look is
due, a lost task's included).

Each is deployed as a function of its own (shared/routing.py, terraform/functions.tf); proxy_job_settle is private:
only the settle queue's service account may invoke it, and the scheduler's the sweep (IAM)."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.observe.requests import observed_http
from shared.settings import get_settings

# A bad configuration fails the deploy (the instance never becomes ready), never a client's request.
get_settings()


@functions_framework.http
def proxy(request: Request) -> Response:
    from functions.proxy.app import dispatch

    return dispatch(request)


@functions_framework.http
@observed_http
def proxy_job_settle(request: Request) -> Response:
    """One job: poll its partner, settle it if it ended, else schedule the next look (backing off)."""
    from functions.proxy.jobs import entry

    return entry.settle_task(request)


@functions_framework.http
@observed_http
def proxy_jobs_sweep(request: Request) -> Response:
    """Cloud Scheduler: every job whose next look is due (a lost task's), followed as proxy_job_settle would."""
    from functions.proxy.jobs import entry

    return entry.sweep(request)


@functions_framework.errorhandler(404)  # type: ignore[untyped-decorator]  # the package ships no types for it
def unrouted(error: Exception) -> Response:
    """functions-framework's catch-all rule misses some paths (a segment holding a line feed): answer them in JSON."""
    from flask import request

    from functions.proxy.app import dispatch

    return dispatch(request)
