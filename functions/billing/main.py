"""Entry points of billing: `billing` (HTTP, every billing path), `billing_reconcile` and `billing_holds_sweep`
(Cloud Scheduler), `billing_usage_export` (the Cloud Tasks target that sends one usage record to Metronome).

Each is deployed as a function of its own (shared/routing.py, terraform/functions.tf). The background ones are
private: only their scheduler's or queue's service account may invoke them (IAM)."""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from shared.observe.requests import observed_http
from shared.settings import get_settings

# A bad configuration fails the deploy (the instance never becomes ready), never a client's request.
get_settings()


@functions_framework.http
def billing(request: Request) -> Response:
    from functions.billing.app import router

    return router().dispatch(request)


@functions_framework.http
@observed_http
def billing_reconcile(request: Request) -> Response:
    """The daily reconciliation of the ledger against Stripe and Metronome: a JSON drift report."""
    from functions.billing.jobs import entry

    return entry.reconcile(request)


@functions_framework.http
@observed_http
def billing_holds_sweep(request: Request) -> Response:
    """Releases holds older than HOLD_MAX_AGE_MINUTES and queues again the usage exports left unsent."""
    from functions.billing.jobs import entry

    return entry.holds_sweep(request)


@functions_framework.http
@observed_http
def billing_usage_export(request: Request) -> Response:
    """One usage record to Metronome (a Cloud Tasks task); a failure answers 5xx so that Cloud Tasks retries it."""
    from functions.billing.jobs import entry

    return entry.usage_export(request)


@functions_framework.errorhandler(404)  # type: ignore[untyped-decorator]  # the package ships no types for it
def unrouted(error: Exception) -> Response:
    """functions-framework's catch-all rule misses some paths (a segment holding a line feed): answer them in JSON."""
    from flask import request

    from functions.billing.app import router

    return router().dispatch(request)
