"""The ComfyUI release feed (deployed as `registry-releases`)."""

from __future__ import annotations

from functions.registry.releases import handlers as h
from shared.http.router import Route

ROUTES = [
    Route("GET", "/releases", h.release_notes, "GetReleaseNotes"),
    Route("POST", "/releases", h.release_webhook, "ProcessReleaseWebhook"),
]
