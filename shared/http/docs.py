"""The interactive API reference each HTTP function serves beside its OpenAPI document: Swagger UI from the files
the flask-swagger-ui package ships (nothing from a CDN), and the document's `servers` naming where the caller reached
it (PUBLIC_BASE_URL when set, else the request's own scheme, host and port)."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path
from typing import Any

from flask import Request, Response

from shared import errors
from shared.settings import Settings

# The files a page loads, by name, with their types; our own script starts Swagger UI (no inline script, so the
# page works under a strict Content-Security-Policy).
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    "start.js": "text/javascript",
}
_START = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
});
"""
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


@cache
def _dist() -> Path:
    import flask_swagger_ui

    return Path(flask_swagger_ui.__file__).resolve().parent / "dist"


def page(title: str, spec_url: str, assets_url: str) -> Response:
    """The reference: Swagger UI over the document at `spec_url`, its files under `assets_url`."""
    t, spec, base = html.escape(title), html.escape(spec_url), html.escape(assets_url.rstrip("/"))
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{t}</title>
<link rel="stylesheet" href="{base}/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/swagger-ui-standalone-preset.js"></script>
<script src="{base}/start.js"></script>
</body>
</html>
"""
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _POLICY
    return response


def asset(name: str) -> Response:
    """One of the page's files (404 for any other name), cacheable for a day."""
    if name not in ASSETS:
        raise errors.NotFound(f"No documentation asset {name!r}")
    data = _START.encode() if name == "start.js" else (_dist() / name).read_bytes()
    response = Response(data, mimetype=ASSETS[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def served_spec(spec: dict[str, Any], request: Request, settings: Settings) -> dict[str, Any]:
    """The document with `servers` naming where it was asked for, so "Try it out" calls this very server."""
    return {**spec, "servers": [{"url": base_url(request, settings), "description": "this server"}]}


def base_url(request: Request, settings: Settings) -> str:
    """PUBLIC_BASE_URL when set; else the request's scheme (the load balancer's `X-Forwarded-Proto`) and its Host
    (a Host that is no host name falls back to HOST:PORT)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    scheme = (request.headers.get("X-Forwarded-Proto") or request.scheme).split(",")[0].strip().lower()
    host = request.host
    if scheme not in ("http", "https") or not _HOST.match(host):
        return settings.base_url
    return f"{scheme}://{host}"
