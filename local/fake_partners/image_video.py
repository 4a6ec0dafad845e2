"""Fake partners of the live spec (see `routes` for the seed's): the routes they answer, the credential each expects
and how it is sent (`HEADER_AUTH`: a header of its own; `AUTH_CHECKS`: a check of its own; else a bearer). The image
and video partners' answers are in `image_video_answers`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Request
from werkzeug.serving import WSGIRequestHandler

from local.fake_partners import answers as a
from local.fake_partners import image_video_answers as iv

GET, POST = "GET", "POST"
VIDEO, IMAGE, TEXT, FILE = "video", "image", "text", "file"
_TASKS = r"/api/v3/contents/generations/tasks"
_FREEPIK = r"/v1/ai/(?:image-upscaler|image-upscaler-precision-v2|image-relight|image-style-transfer|skin-enhancer)"

TABLE: list[tuple[str, str, str, a.Handler]] = [
    ("bria", POST, r"/v2/image/edit(?:/[a-z_]+)?", iv.bria_submit(IMAGE)),
    ("bria", POST, r"/v2/video/edit/[a-z_]+", iv.bria_submit(VIDEO)),
    ("bria", POST, r"/v2/structured_instruction/generate", iv.bria_submit(TEXT)),
    ("bria", GET, r"/v2/status/[^/]+", iv.poll(iv.bria_status, iv.bria_missing)),
    ("byteplus", POST, r"/api/v3/images/generations", iv.seedream),
    ("byteplus", POST, _TASKS, iv.submit("byteplus", VIDEO, iv.task_created)),
    ("byteplus", GET, _TASKS + r"/[^/]+", iv.poll(iv.task_state)),
    ("byteplus", POST, r"/api/v3/files", iv.submit("byteplus-file", FILE, iv.file_created)),
    ("byteplus", GET, r"/api/v3/files/[^/]+", iv.poll(iv.file_state)),
    ("byteplus", POST, r"/api/v3/responses", iv.responses),
    ("byteplus-seedance2", GET, _TASKS + r"/[^/]+", iv.poll(iv.task_state)),
    ("byteplusmediakit", POST, r"/api/v1/tools/enhance-video", iv.submit("mediakit", VIDEO, iv.mediakit_created)),
    ("byteplusmediakit", GET, r"/api/v1/tasks/[^/]+", iv.poll(iv.mediakit_state)),
    ("seedance", POST, r"/visual-validate/sessions", iv.submit("session", TEXT, iv.session_created)),
    ("seedance", GET, r"/visual-validate/sessions/[^/]+", iv.poll(iv.session_state)),
    ("seedance", POST, r"/virtual-library/assets", iv.submit("asset", IMAGE, iv.asset_created)),
    ("seedance", GET, r"/assets/[^/]+", iv.poll(iv.asset_state)),
    (
        "freepik",
        POST,
        _FREEPIK + r"(?:/creative|/faithful|/flexible)?",
        iv.submit("freepik", IMAGE, iv.freepik_created),
    ),
    ("freepik", GET, _FREEPIK + r"/[^/]+", iv.poll(iv.freepik_state)),
    ("krea", POST, r"/generate/image/krea/krea-2/[a-z-]+", iv.submit("krea", IMAGE, iv.krea_created)),
    ("krea", GET, r"/jobs/[^/]+", iv.poll(iv.krea_state)),
    ("krea", POST, r"/assets", iv.krea_asset),
    ("ltx", POST, r"/v1/(?:text|image)-to-video", iv.ltx_video),
    ("ltx", POST, r"/v2/(?:text|image|audio)-to-video", iv.submit("ltx", VIDEO, iv.ltx_created)),
    ("ltx", GET, r"/v2/(?:text|image|audio)-to-video/[^/]+", iv.poll(iv.ltx_state)),
    ("luma_2", POST, r"/generations", iv.submit("luma_2", IMAGE, iv.luma_created)),
    ("luma_2", GET, r"/generations/[^/]+", iv.poll(iv.luma_state)),
    ("reve", POST, r"/v1/image/(?:create|edit|remix)", iv.reve),
]
CREDENTIALS: dict[str, str] = {
    "bria": "fake-bria-token",
    "byteplus": "fake-byteplus-ark-key",
    "byteplus-seedance2": "fake-byteplus-seedance2-key",
    "byteplusmediakit": "fake-byteplus-mediakit-key",
    "seedance": "fake-seedance-key",
    "freepik": "fake-freepik-key",
    "krea": "fake-krea-key",
    "ltx": "fake-ltx-key",
    "luma_2": "fake-luma-agents-key",
    "reve": "fake-reve-key",
}
HEADER_AUTH: dict[str, str] = {"freepik": "x-freepik-api-key"}
RAW_HEADERS = "fake_partners.raw_headers"
_make_environ = WSGIRequestHandler.make_environ


def _keeping_underscored_headers(self: WSGIRequestHandler) -> Any:
    """Werkzeug's server drops a header whose name has an underscore (CGI cannot tell `api_token` from `api-token`);
    Bria's credential is one (`api_token`). The fake keeps the names as sent, and such headers for the record."""
    environ = _make_environ(self)
    environ[RAW_HEADERS] = list(self.headers.items())
    for name, value in self.headers.items():
        if "_" in name:
            environ.setdefault("HTTP_" + name.upper().replace("-", "_"), value)
    return environ


WSGIRequestHandler.make_environ = _keeping_underscored_headers  # type: ignore[method-assign]


def _bria_token(request: Request, expected: str) -> bool:
    """`api_token` itself, underscore and all (a hyphenated `api-token` would not do)."""
    sent = request.environ.get(RAW_HEADERS, [])
    return any(name.lower() == "api_token" and value == expected for name, value in sent)


AUTH_CHECKS: dict[str, Callable[[Request, str], bool]] = {"bria": _bria_token}
