"""Log records as Cloud Logging reads them: one JSON object per line (`severity`, `message`, the trace and span of
the request being served, its request id and function), or plain text on a workstation (`LOG_FORMAT`)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from shared.settings import Settings

TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
SAMPLED = "logging.googleapis.com/trace_sampled"
# What every line written while serving one request carries (set and reset by shared/observe/requests.py).
_scope: ContextVar[dict[str, Any] | None] = ContextVar("comfy_log_scope", default=None)
_HANDLER_MARK = "_comfy_handler"


def scope() -> dict[str, Any]:
    return _scope.get() or {}


def enter(fields: dict[str, Any]) -> object:
    """Every record logged until `leave(token)` carries `fields` (the request id, the trace, the function)."""
    return _scope.set(fields)


def leave(token: object) -> None:
    _scope.reset(token)  # type: ignore[arg-type]


class JsonFormatter(logging.Formatter):
    """One JSON line per record: Cloud Logging's special fields, the request's scope, and a record's `json_fields`
    (the request line's `httpRequest`, the caller's kind). A traceback goes into `message`, where Error Reporting
    looks for it."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
            **scope(),
        }
        extra = getattr(record, "json_fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        entry["logging.googleapis.com/sourceLocation"] = {
            "file": record.pathname,
            "line": str(record.lineno),
            "function": record.funcName,
        }
        return json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """A workstation's line: time, level, logger, message, and the request id when serving one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = scope().get("requestId")
        return f"{line} [request {request_id}]" if request_id else line


def handler(json_lines: bool, stream: IO[str] | None = None) -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stdout)
    out.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    setattr(out, _HANDLER_MARK, True)
    return out


def configure(settings: Settings, stream: IO[str] | None = None) -> None:
    """Send every record at LOG_LEVEL and above to stdout (where Cloud Run's agent reads it), as JSON or text;
    calling it again replaces the handler it installed."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler(settings.log_json, stream))
    root.setLevel(settings.log_level)


def ensure_configured(settings: Settings | None) -> None:
    """On a function's first request or run: in the cloud, configure (once); elsewhere only when nothing handles the
    root logger yet (the local stack configures itself, and a test's log capture is left alone)."""
    root = logging.getLogger()
    if settings is None or any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    if settings.k_service or not root.handlers:
        configure(settings)
