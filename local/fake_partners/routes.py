"""Which fake answers which partner path (regular expressions over the path after `/<partner>`)."""

from __future__ import annotations

import re

from local.fake_partners import answers as a
from local.fake_partners import image_video, signed_steps, text_audio, video_3d

GET, POST = "GET", "POST"
VIDEO, IMAGE, MODEL = "video", "image", "model"
_KLING_FAMILIES = (
    "videos/(?:text2video|image2video|omni-video|video-extend|lip-sync|effects|avatar/image2video|motion-control)"
)
_KLING_IMAGES = "images/(?:generations|kolors-virtual-try-on|omni-image)"

TABLE: list[tuple[str, str, str, a.Handler]] = [
    ("openai", POST, r"/v1/images/(generations|edits)", a.openai_image),
    ("openai", POST, r"/v1/responses", a.openai_response),
    ("openai", GET, r"/v1/responses/[^/]+", a.openai_stored_response),
    ("openai", POST, r"/v1/videos", a.submit("openai", VIDEO, a.by_id())),
    ("openai", GET, r"/v1/videos/[^/]+/content", a.openai_video_content),
    ("openai", GET, r"/v1/videos/[^/]+", a.poll(a.flat_poll("status", lambda url: {}))),
    ("stability", POST, r"/v2beta/stable-image/upscale/creative", a.submit("stability", IMAGE, a.by_id(status=""))),
    ("stability", POST, r"/v2beta/stable-image/.+", a.stability_image),
    ("stability", POST, r"/v2beta/audio/.+", a.stability_audio),
    ("stability", GET, r"/v2beta/results/[^/]+", a.stability_result),
    ("runway", POST, r"/text_to_image", a.submit("runway", IMAGE, a.by_id(status=""))),
    ("runway", POST, r"/(image|video)_to_video", a.submit("runway", VIDEO, a.by_id(status=""))),
    ("runway", GET, r"/tasks/[^/]+", a.poll(a.flat_poll("status", lambda url: {"output": [url]}))),
    ("bfl", POST, r"/v1/flux-.+", a.submit("bfl", IMAGE, a.bfl_submit)),
    ("bfl", GET, r"/v1/get_result", a.poll(a.bfl_poll, id_from="id")),
    ("kling", POST, f"/v1/{_KLING_FAMILIES}", a.submit("kling", VIDEO, a.kling_submit)),
    ("kling", POST, f"/v1/{_KLING_IMAGES}", a.submit("kling", IMAGE, a.kling_submit)),
    ("kling", GET, f"/v1/(?:{_KLING_FAMILIES}|{_KLING_IMAGES})/[^/]+", a.poll(a.kling_poll)),
    ("kling", POST, r"/(text|image)-to-video/kling-3\.0-turbo", a.submit("kling-turbo", VIDEO, a.kling_turbo_submit)),
    ("kling", GET, r"/tasks", a.poll(a.kling_turbo_poll, id_from="task_ids")),
    ("kling", GET, r"/v1/general/advanced-presets-elements", lambda ctx: a.js({"code": 0, "data": []})),
    ("ideogram", POST, r"/.+", a.ideogram),
    ("recraft", POST, r"/.+", a.recraft),
    ("luma", POST, r"/generations/image", a.submit("luma", IMAGE, a.by_id(status="state", code=201))),
    ("luma", POST, r"/generations", a.submit("luma", VIDEO, a.by_id(status="state", code=201))),
    ("luma", GET, r"/generations/[^/]+", a.poll(a.flat_poll("state", lambda url: {"assets": {"video": url}}))),
    ("pixverse", POST, r"/video/[a-z]+/generate", a.submit("pixverse", VIDEO, a.pixverse_submit)),
    ("pixverse", POST, r"/(image|media)/upload", a.upload),
    ("pixverse", GET, r"/video/result/[^/]+", a.poll(a.pixverse_poll)),
    ("pika", POST, r"/generate/.+", a.submit("pika", VIDEO, a.by_id(key="video_id", status=""))),
    ("pika", GET, r"/videos/[^/]+", a.poll(a.flat_poll("status", lambda url: {"url": url}))),
    ("tripo", POST, r"/v2/openapi/task", a.submit("tripo", MODEL, a.tripo_submit)),
    ("tripo", GET, r"/v2/openapi/task/[^/]+", a.poll(a.tripo_poll)),
    ("tripo", POST, r"/v2/openapi/(upload|import)", a.upload),
    ("moonvalley", POST, r"/prompts/.+", a.submit("moonvalley", VIDEO, a.by_id(code=201))),
    ("moonvalley", GET, r"/prompts/[^/]+", a.poll(a.flat_poll("status", lambda url: {"output_url": url}))),
    ("moonvalley", POST, r"/uploads", a.upload),
    ("hitpaw", POST, r"/api/(photo|video)-enhancer", a.submit("hitpaw", IMAGE, a.hitpaw_submit)),
    ("hitpaw", POST, r"/api/task-status", a.hitpaw_poll),
]
GROUPS = (image_video, video_3d, text_audio, signed_steps)
TABLE += [route for group in GROUPS for route in group.TABLE]
COMPILED = [(partner, method, re.compile(pattern), handler) for partner, method, pattern, handler in TABLE]
