"""Fake partners of the live spec (see `routes` for the seed's): the routes they answer, the credential each expects
and how it is sent (`HEADER_AUTH`: a header of its own; `AUTH_CHECKS`: a check of its own; else a bearer). Vidu and
fal read a scheme of their own in `Authorization` (`Token <key>`, `Key <key>`): the credential carries it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Request

from local.fake_partners import answers as a
from local.fake_partners import video_3d_answers as v

GET, POST = "GET", "POST"
VIDEO, IMAGE, MODEL = "video", "image", "model"
_MESHY = r"/openapi/(?:v2/text-to-3d|v1/(?:image-to-3d|multi-image-to-3d|retexture|rigging|animations))"
_AIGC = r"/api/v1/services/aigc"
_FAL_APPS = r"/(?:fal-ai/patina|minimax/h3-max)"

TABLE: list[tuple[str, str, str, a.Handler]] = [
    ("minimax", POST, r"/v1/video_generation", v.started("minimax", VIDEO, v.minimax_submit)),
    ("minimax", GET, r"/v1/query/video_generation", v.polled(v.minimax_query, v.query("task_id"), v.minimax_missing)),
    ("minimax", GET, r"/v1/files/retrieve", v.minimax_retrieve),
    ("minimax", POST, r"/v1/files/retrieve", v.minimax_retrieve),
    (
        "minimax",
        POST,
        r"/v2/(?:video_generation|video_regeneration|h3_context_ir)",
        v.started("minimax-v2", VIDEO, v.minimax_v2_submit),
    ),
    ("minimax", GET, r"/v2/query/video_generation/[^/]+", v.polled(v.minimax_v2_query, v.segment(1), a.not_found)),
    (
        "vidu",
        POST,
        r"/(?:text2video|img2video|reference2video|start-end2video|extend|multiframe)",
        v.started("vidu", VIDEO, v.vidu_submit),
    ),
    ("vidu", GET, r"/tasks/[^/]+/creations", v.polled(v.vidu_creations, v.segment(2), a.not_found)),
    ("wan", POST, f"{_AIGC}/video-generation/video-synthesis", v.started("wan", VIDEO, v.wan_submit)),
    ("wan", POST, f"{_AIGC}/(?:text2image|image2image)/image-synthesis", v.started("wan", IMAGE, v.wan_submit)),
    ("wan", GET, r"/api/v1/tasks/[^/]+", v.polled(v.wan_task, v.segment(1), v.wan_missing)),
    ("wavespeed", POST, r"/api/v3/wavespeed-ai/flashvsr", v.started("wavespeed", VIDEO, v.wavespeed_submit)),
    (
        "wavespeed",
        POST,
        r"/api/v3/wavespeed-ai/(?:seedvr2/image|ultimate-image-upscaler)",
        v.started("wavespeed", IMAGE, v.wavespeed_submit),
    ),
    (
        "wavespeed",
        GET,
        r"/api/v3/predictions/[^/]+/result",
        v.polled(v.wavespeed_result, v.segment(2), v.wavespeed_missing),
    ),
    ("meshy", POST, _MESHY, v.started("meshy", MODEL, v.meshy_submit)),
    ("meshy", POST, r"/openapi/v1/remesh", v.started("meshy-remesh", MODEL, v.meshy_submit)),
    ("meshy", GET, f"(?:{_MESHY}|/openapi/v1/remesh)/[^/]+", v.polled(v.meshy_task, v.segment(1), v.meshy_missing)),
    ("fal", POST, r"/fal-ai/patina(?:/material(?:/extract)?)?", v.started("fal", IMAGE, v.fal_submit)),
    ("fal", POST, r"/minimax/h3-max/(?:text|image|reference)-to-video", v.started("fal", VIDEO, v.fal_submit)),
    ("fal", GET, f"{_FAL_APPS}/requests/[^/]+/status", v.polled(v.fal_status, v.segment(2), v.fal_missing)),
    ("fal", GET, f"{_FAL_APPS}/requests/[^/]+", v.fal_result),
]
CREDENTIALS: dict[str, str] = {
    "minimax": "fake-minimax-key",
    "vidu": "fake-vidu-key",
    "wan": "sk-fake-wan-key",
    "wavespeed": "fake-wavespeed-key",
    "meshy": "msy-fake-meshy-key",
    "fal": "fake-fal-id:fake-fal-secret",
}
HEADER_AUTH: dict[str, str] = {}
# Vidu and fal put their own scheme before the key in Authorization.
AUTH_CHECKS: dict[str, Callable[[Request, str], bool]] = {
    "vidu": lambda req, key: req.headers.get("Authorization") == f"Token {key}",
    "fal": lambda req, key: req.headers.get("Authorization") == f"Key {key}",
}
