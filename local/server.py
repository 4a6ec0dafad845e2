"""The local stack's HTTP server: werkzeug's development server with two changes. Errors it answers itself, before
any function sees the request (a request line or header past the limits, a line that is not HTTP), are JSON like
every other error of ours instead of http.server's HTML page; and its access log never shows a signature, a
credential or a token from a query string (signed upload URLs carry theirs there)."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# Query parameters whose values are secrets: the local and the Cloud Storage signatures, and anything token-like.
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:sig|signature|x-goog-signature|x-goog-credential|[a-z_-]*token)=)[^&\s]*")
_ERROR_CODES = {400: "bad_request", 408: "request_timeout", 414: "uri_too_long", 431: "headers_too_large"}


def redact(target: str) -> str:
    return _SECRET_PARAMS.sub(r"\1REDACTED", target)


class JsonErrorRequestHandler(WSGIRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals; its message can quote the raw request line, so only the standard phrase goes
        # out (and into the log).
        phrase = self.responses.get(code, ("Error", ""))[0]
        body = json.dumps({"error": _ERROR_CODES.get(code, f"http_{code}"), "message": phrase}).encode()
        self.log("error", "refused a request: %d %s", code, phrase)
        self.send_response(code, phrase)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", None)
        line = f"{self.command} {redact(path)} {self.request_version}" if path else "(unreadable request line)"
        self.log("info", '"%s" %s %s', line.translate(self._control_char_table), code, size)


def make(host: str, port: int, app: Any) -> BaseWSGIServer:
    """A threaded server for `app` (port 0 picks a free one: read it back from `.port`)."""
    return make_server(host, port, app, threaded=True, request_handler=JsonErrorRequestHandler)


def serve(host: str, port: int, app: Any) -> None:
    make(host, port, app).serve_forever()
