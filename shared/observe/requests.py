"""One log line per request and per background run, in the request's trace, with the request id its answer carries
(`X-Comfy-Request-Id`). `Router.dispatch` serves every routed request through `serve`; the background entry points
that no router serves are wrapped by `observed_http` (Cloud Scheduler, Cloud Tasks) or `observed_event` (Pub/Sub,
Cloud Storage)."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Request, Response, current_app, has_app_context

from shared import routing
from shared.observe import context, logs
from shared.observe.context import TraceParent
from shared.observe.tracing import NoTracing, Span, Tracer
from shared.settings import Settings, get_settings

REQUEST_ID = "X-Comfy-Request-Id"
ENVIRON_KEY = "comfy.request_id"
log = logging.getLogger("comfy.request")


def serve(request: Request, deps: Callable[[], Any], call: Callable[[], Response]) -> Response:
    """Answer `call()`, then write the request's line; the answer names the request id the line has."""
    started = time.perf_counter()
    request_id = request.environ.setdefault(ENVIRON_KEY, uuid.uuid4().hex)
    settings, tracer = _settings_and_tracer(deps)
    logs.ensure_configured(settings)
    function = function_name(settings)
    parent = context.trace_of(request.headers)
    fields: dict[str, Any] = {"requestId": request_id, "function": function}
    token = logs.enter(fields)
    try:
        with tracer.span(f"{request.method} {function}", parent, _request_attributes(request, function)) as span:
            fields.update(trace_fields(settings, parent, span))
            response = call()
            if span is not None:
                span.finish({"http.response.status_code": response.status_code}, response.status_code >= 500)
        response.headers[REQUEST_ID] = request_id
        _request_line(request, response, started)
        return response
    finally:
        logs.leave(token)


def observed_http(entry: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A background function called over HTTP (Cloud Scheduler, Cloud Tasks): its run is a request like any other,
    and an error it lets out is answered as every error is (and logged with its traceback)."""

    @functools.wraps(entry)
    def run(request: Request) -> Response:
        from shared.bootstrap import get_container

        def call() -> Response:
            try:
                return entry(request)
            except Exception as exc:  # noqa: BLE001 - mapped to a status like every other error
                from shared.http.errors import to_response

                return to_response(exc)

        return serve(request, get_container, call)

    return run


def observed_event(function: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """A CloudEvent function (a Pub/Sub push, an upload's `object.finalized`): one line per delivery with the event's
    id and type, in the trace its `traceparent` extension names; an error is logged and raised again, so that the
    event is delivered again."""

    def wrap(entry: Callable[[Any], None]) -> Callable[[Any], None]:
        @functools.wraps(entry)
        def run(cloud_event: Any) -> None:
            started = time.perf_counter()
            settings, tracer = _settings_and_tracer(_container)
            logs.ensure_configured(settings)
            event = {k: str(_attribute(cloud_event, k)) for k in ("id", "type", "source", "subject")}
            parent = context.trace_of({"traceparent": str(_attribute(cloud_event, "traceparent") or "")})
            fields: dict[str, Any] = {"requestId": event["id"], "function": function}
            token = logs.enter(fields)
            try:
                with tracer.span(f"event {function}", parent, {"faas.name": function}) as span:
                    fields.update(trace_fields(settings, parent, span))
                    try:
                        entry(cloud_event)
                    except Exception:
                        _run_line(logging.ERROR, function, event, started, "failed", exc=True)
                        raise
                    _run_line(logging.INFO, function, event, started, "done")
            finally:
                logs.leave(token)

        return run

    return wrap


def trace_fields(settings: Settings | None, parent: TraceParent | None, span: Span | None) -> dict[str, Any]:
    """Cloud Logging's trace fields: the caller's trace (else the span's), and this span when it is in that trace."""
    ids = span.ids if span is not None else None
    trace_id = parent.trace_id if parent is not None else (ids.trace_id if ids else None)
    if trace_id is None:
        return {}
    project = settings.gcp_project if settings is not None else "-"
    fields: dict[str, Any] = {logs.TRACE: f"projects/{project}/traces/{trace_id}"}
    span_id = ids.span_id if ids is not None and ids.trace_id == trace_id else (parent.span_id if parent else None)
    if span_id:
        fields[logs.SPAN] = span_id
    fields[logs.SAMPLED] = bool(ids.sampled if ids is not None else parent is not None and parent.sampled)
    return fields


def function_name(settings: Settings | None) -> str:
    """The deployed function serving this request: the Flask app functions-framework made is named for its entry
    point (the local stack serves them all in one process, so K_SERVICE would not tell)."""
    if has_app_context():
        entry = current_app.name
        return _names().get(entry, entry)
    return (settings.k_service if settings is not None else None) or "unknown"


@functools.cache
def _names() -> dict[str, str]:
    return {fn.entry_point: fn.name for fn in routing.deployed_functions()}


def _container() -> Any:
    from shared.bootstrap import get_container

    return get_container()


def _settings_and_tracer(deps: Callable[[], Any]) -> tuple[Settings | None, Tracer]:
    """The serving container's settings and tracer; a container that cannot be built still gets its line logged."""
    try:
        c = deps()
    except Exception:  # noqa: BLE001 - the handler meets (and answers) the same failure
        c = None
    settings = getattr(c, "settings", None)
    if settings is None:
        try:
            settings = get_settings()
        except Exception:  # noqa: BLE001 - a bad configuration fails the instance's start, not this line
            settings = None
    return settings, getattr(c, "tracer", None) or NoTracing()


def _attribute(cloud_event: Any, name: str) -> Any:
    try:
        return cloud_event[name]
    except (KeyError, TypeError):
        return None


def _request_attributes(request: Request, function: str) -> dict[str, str | int]:
    return {"http.request.method": request.method, "url.path": request.path, "faas.name": function}


def _request_line(request: Request, response: Response, started: float) -> None:
    status = response.status_code
    seconds = time.perf_counter() - started
    url = context.safe_url(request.path, request.query_string.decode("utf-8", "replace"))
    http: dict[str, Any] = {
        "requestMethod": request.method,
        "requestUrl": url,
        "status": status,
        "latency": f"{seconds:.3f}s",
        "userAgent": request.headers.get("User-Agent", ""),
        "remoteIp": (request.headers.get("X-Forwarded-For") or request.remote_addr or "").split(",")[0].strip(),
        "protocol": request.environ.get("SERVER_PROTOCOL", ""),
    }
    size = None if response.is_streamed else response.calculate_content_length()
    if size is not None:
        http["responseSize"] = str(size)
    extra: dict[str, Any] = {
        "httpRequest": http,
        "caller": context.caller_kind(request.method, request.path, request.headers),
    }
    if status >= 400 and not response.is_streamed and response.is_json:
        error = (response.get_json(silent=True) or {}) if response.is_json else {}
        if isinstance(error, dict) and isinstance(error.get("error") or error.get("error_type"), str):
            extra["error"] = error.get("error") or error.get("error_type")
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    log.log(level, "%s %s %d %.0fms", request.method, url, status, seconds * 1000, extra={"json_fields": extra})


def _run_line(
    level: int, function: str, event: dict[str, str], started: float, outcome: str, *, exc: bool = False
) -> None:
    seconds = time.perf_counter() - started
    extra = {"event": event, "outcome": outcome, "latency": f"{seconds:.3f}s"}
    log.log(
        level,
        "%s: %s %s %s in %.3fs",
        function,
        event["type"],
        event["id"],
        outcome,
        seconds,
        exc_info=exc,
        extra={"json_fields": extra},
    )
