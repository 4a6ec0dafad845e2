"""Video, 3D and upscaling partners of the live spec (MiniMax, Vidu, Wan, WaveSpeed, Meshy, fal), one catalog entry
each, on the shapes of `seed`. Prices are micro-USD; where the reference gives no list price the figure is ours, and
the comment says so. A few partners price on more than one request field: their rules are here, on `PriceRule`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.proxy.catalog.model import Auth, Operation, Partner, PriceRule, Role
from functions.proxy.catalog.prices import PartnerCredits, PerSecond, PerUnit, dig, number, usd

GET, POST = "GET", "POST"
SUBMIT, POLL, FETCH = Role.SUBMIT, Role.POLL, Role.FETCH


# -- price rules of more than one field ------------------------------------------------------------------------------


_HAILUO_LEGACY = frozenset({"t2v-01", "t2v-01-director", "i2v-01", "i2v-01-director", "i2v-01-live", "s2v-01"})


@dataclass(frozen=True)
class Hailuo:
    """MiniMax's v1 video, as ComfyUI's badges price it: Hailuo-02 at 768P is $0.28 per 6 s (10 s: $0.56), at 1080P
    $0.49 (6 s only); the older models (T2V-01, I2V-01, S2V-01...) $0.43 a video. Another model is held as Hailuo-02."""

    def estimate(self, fields: Mapping[str, Any]) -> int:
        if str(fields.get("model") or "").lower() in _HAILUO_LEGACY:
            return usd("0.43")
        if str(fields.get("resolution") or "").upper() == "1080P":
            return usd("0.49")
        return usd("0.56") if number(fields.get("duration"), 6, most=10) > 6 else usd("0.28")

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class SmartSeconds(PerSecond):
    """Per second, where a duration of -1 lets the partner choose it (Wan 3.0): held at the longest."""

    def estimate(self, fields: Mapping[str, Any]) -> int:
        if str(dig(fields, self.count)).strip() == "-1":
            return self.unit(fields) * self.most
        return super().estimate(fields)


@dataclass(frozen=True)
class Images(PerUnit):
    """Per image, where the partner's own default count is not one (Wan text-to-image makes four unless told)."""

    default_count: int = 1

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.unit(fields) * number(dig(fields, self.count), self.default_count, most=self.most)


@dataclass(frozen=True)
class ReportedSeconds:
    """Per second of output the partner reports at the job's end (`field` of the terminal poll), held at `most`
    seconds: MiniMax's v2 regeneration takes its length from the source video, not from a request field."""

    micros: int
    field: str
    most: int

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.micros * self.most

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        seconds = dig(answer, self.field)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 10_000:
            return None
        return self.micros * math.ceil(seconds)


@dataclass(frozen=True)
class Megapixels:
    """fal's PATINA: per megapixel of texture and per image; an upscale of the maps (2x, 4x) adds a surcharge per map
    and pre-upscale megapixel, which the `upscale` multipliers cover; a megapixel is fal's 1024x1024, a started one
    counts. Our figures (fal's per-megapixel list price)."""

    micros: int
    upscale: Mapping[str, int]

    def estimate(self, fields: Mapping[str, Any]) -> int:
        size = fields.get("image_size")
        pixels = 1024 * 1024  # every preset is at most square_hd
        if isinstance(size, Mapping):
            width, height = number(size.get("width"), 1024, most=8192), number(size.get("height"), 1024, most=8192)
            pixels = width * height
        factor = self.upscale.get(str(fields.get("upscale_factor") or "0").split(".")[0], max(self.upscale.values()))
        images = number(fields.get("num_images"), 1, most=4)
        return self.micros * max(1, math.ceil(pixels / 1024**2)) * images * factor

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


# -- MiniMax (Hailuo) -------------------------------------------------------------------------------------------------

_MINIMAX_V1_POLL = "/query/video_generation?task_id={id}"
_MINIMAX_V2_POLL = "/v2/query/video_generation/{id}"
_V2_FAILED = frozenset({"expired"})  # queued, running, then succeeded, or failed, cancelled or expired
# MiniMax-H3 (v2): our figures, above Hailuo-02's ($0.047 a second at 768P): $0.06 a second at 768P, $0.20 at 2K.
_H3 = PerSecond(usd("0.2"), by="resolution", table={"768p": usd("0.06")}, most=15)
MINIMAX = Partner(
    "minimax",
    "https://api.minimax.io",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/video_generation",
            SUBMIT,
            Hailuo(),
            job_id="task_id",
            poll=_MINIMAX_V1_POLL,
            upstream="/v1/video_generation",
        ),
        # Queueing, Preparing, Processing, then Success with the video's `file_id`: recorded as the job's (its
        # owner's) when the owner's poll sees it, so that the file's retrieval below is owner-only.
        Operation(
            GET,
            "/query/video_generation",
            POLL,
            job_id="query:task_id",
            status="status",
            upstream="/v1/query/video_generation",
            aliases=("file_id",),
        ),
        # The finished video's download URL, read by the file id. The spec has POST; ComfyUI's client sends GET;
        # both take `?file_id=`.
        *(
            Operation(method, "/files/retrieve", FETCH, job_id="query:file_id", upstream="/v1/files/retrieve")
            for method in (POST, GET)
        ),
        Operation(POST, "/v2/video_generation", SUBMIT, _H3, job_id="task_id", poll=_MINIMAX_V2_POLL),
        # Regeneration to 2K: its length is the source's, so the price is the reported duration ($0.20 a second).
        Operation(
            POST,
            "/v2/video_regeneration",
            SUBMIT,
            ReportedSeconds(usd("0.2"), "task.duration", 15),
            job_id="task_id",
            poll=_MINIMAX_V2_POLL,
        ),
        # Prompt enhancement only (no video): our figure, $0.01 a task.
        Operation(
            POST, "/v2/h3_context_ir", SUBMIT, PerUnit(usd("0.01"), count=""), job_id="task_id", poll=_MINIMAX_V2_POLL
        ),
        Operation(
            GET,
            "/v2/query/video_generation/{task_id}",
            POLL,
            job_id="path:task_id",
            status="task.status",
            failed=_V2_FAILED,
        ),
    ),
    timeout_seconds=120,
)

# -- Vidu -------------------------------------------------------------------------------------------------------------

# Vidu answers its cost in credits at submit ($0.005 each, as ComfyUI's client prices them); the hold is our list
# figure (viduq1 at 1080p: 80 credits for 5 s, $0.08 a second; viduq3-pro longer and dearer) plus half.
_VIDU_CREDIT = 5_000
_VIDU = PartnerCredits(
    PerSecond(usd("0.08"), by="model", table={"viduq3": usd("0.1")}, most=16), "credits", _VIDU_CREDIT
)
# Multi-frame: up to nine key frames of up to 7 s each; held as 30 s, then charged the credits Vidu reports.
_VIDU_MULTIFRAME = PartnerCredits(PerUnit(usd("2.4"), count=""), "credits", _VIDU_CREDIT)
VIDU = Partner(
    "vidu",
    "https://api.vidu.com/ent/v2",
    Auth.HEADER,
    (
        *(
            Operation(POST, f"/{kind}", SUBMIT, _VIDU, job_id="task_id", status="state", poll="/tasks/{id}/creations")
            for kind in ("text2video", "img2video", "reference2video", "start-end2video", "extend")
        ),
        Operation(
            POST,
            "/multiframe",
            SUBMIT,
            _VIDU_MULTIFRAME,
            job_id="task_id",
            status="state",
            poll="/tasks/{id}/creations",
        ),
        # created, queueing, processing, then success (`creations[].url`) or failed.
        Operation(GET, "/tasks/{id}/creations", POLL, job_id="path:id", status="state"),
    ),
    auth_header="Authorization",
    auth_prefix="Token ",  # Vidu's scheme; the credential is the bare key
)

# -- Wan (Alibaba DashScope) ------------------------------------------------------------------------------------------

_WAN_TASK = "/api/v1/tasks/{id}"
_ASYNC = {"X-DashScope-Async": "enable"}  # DashScope refuses a synchronous call of these: on submit only
_WAN_FAILED = frozenset({"unknown"})  # UNKNOWN: the task expired or never was
_WAN_VIDEO = SmartSeconds(
    usd("0.1"),
    count="parameters.duration",
    by="parameters.resolution",
    table={"480p": usd("0.05"), "720p": usd("0.1"), "1080p": usd("0.15")},
    most=30,
)


def _wan(path: str, price: SmartSeconds | Images) -> Operation:
    return Operation(
        POST,
        path,
        SUBMIT,
        price,
        job_id="output.task_id",
        status="output.task_status",
        failed=_WAN_FAILED,
        poll=_WAN_TASK,
        submit_headers=_ASYNC,
    )


_AIGC = "/api/v1/services/aigc"
WAN = Partner(
    "wan",
    "https://dashscope-intl.aliyuncs.com",
    Auth.BEARER,
    (
        _wan(f"{_AIGC}/video-generation/video-synthesis", _WAN_VIDEO),
        _wan(f"{_AIGC}/text2image/image-synthesis", Images(usd("0.03"), count="parameters.n", most=4, default_count=4)),
        _wan(f"{_AIGC}/image2image/image-synthesis", Images(usd("0.03"), count="parameters.n", most=4)),
        Operation(
            GET, "/api/v1/tasks/{task_id}", POLL, job_id="path:task_id", status="output.task_status", failed=_WAN_FAILED
        ),
    ),
)

# -- WaveSpeed --------------------------------------------------------------------------------------------------------

_WAVESPEED_POLL = "/api/v3/predictions/{id}/result"
# FlashVSR per second of video by target ($0.012 to $0.032, ComfyUI's badges; 1080p and 2k between them are ours).
_FLASHVSR = PerSecond(
    usd("0.016"),
    by="target_resolution",
    table={"720p": usd("0.012"), "2k": usd("0.024"), "4k": usd("0.032")},
    default_seconds=10,
    most=600,
)


def _wavespeed(model: str, price: PerSecond | PerUnit) -> Operation:
    return Operation(
        POST,
        f"/api/v3/wavespeed-ai/{model}",
        SUBMIT,
        price,
        job_id="data.id",
        status="data.status",
        poll=_WAVESPEED_POLL,
    )


WAVESPEED = Partner(
    "wavespeed",
    "https://api.wavespeed.ai",
    Auth.BEARER,
    (
        _wavespeed("flashvsr", _FLASHVSR),
        # Per image: SeedVR2 $0.01, the Ultimate upscaler $0.06 (ComfyUI's badges); an 8k SeedVR2 at $0.04 is ours.
        _wavespeed("seedvr2/image", PerUnit(usd("0.01"), count="", by="target_resolution", table={"8k": usd("0.04")})),
        _wavespeed("ultimate-image-upscaler", PerUnit(usd("0.06"), count="")),
        # created, processing, then completed (`data.outputs`) or failed.
        Operation(
            GET, "/api/v3/predictions/{prediction_id}/result", POLL, job_id="path:prediction_id", status="data.status"
        ),
    ),
    timeout_seconds=120,
)

# -- Meshy ------------------------------------------------------------------------------------------------------------

# Meshy prices tasks in its credits; ComfyUI's badges ($0.12 to $1.20 a task) put one at $0.04. Meshy-6 and newer
# cost 20 credits a preview and 30 an image-to-3D model with texture, older models a quarter and half of that.
_MESHY_PRICES: tuple[tuple[str, PerUnit], ...] = (
    ("v2/text-to-3d", PerUnit(usd("0.8"), count="", by="mode", table={"refine": usd("0.4")})),
    ("v1/image-to-3d", PerUnit(usd("1.2"), count="", by="ai_model", table={"meshy-5": usd("0.6")})),
    ("v1/multi-image-to-3d", PerUnit(usd("1.2"), count="", by="ai_model", table={"meshy-5": usd("0.6")})),
    ("v1/remesh", PerUnit(usd("0.2"), count="")),
    ("v1/retexture", PerUnit(usd("0.4"), count="")),
    ("v1/rigging", PerUnit(usd("0.2"), count="")),
    ("v1/animations", PerUnit(usd("0.12"), count="")),
)


def _meshy(kind: str, price: PerUnit) -> tuple[Operation, Operation]:
    """Submit answers `result`, the task id; `GET <path>/{task_id}` reads it (PENDING, IN_PROGRESS or PROCESSING,
    then SUCCEEDED, FAILED or CANCELED)."""
    path = f"/openapi/{kind}"
    return (
        Operation(POST, path, SUBMIT, price, job_id="result", poll=path + "/{id}"),
        Operation(GET, path + "/{task_id}", POLL, job_id="path:task_id", status="status"),
    )


MESHY = Partner(
    "meshy",
    "https://api.meshy.ai",
    Auth.BEARER,
    tuple(op for kind, price in _MESHY_PRICES for op in _meshy(kind, price)),
)

# -- fal (queue API) --------------------------------------------------------------------------------------------------

# fal's queue: IN_QUEUE, IN_PROGRESS, then COMPLETED, for a failed request too, which then carries an `error_type`
# (and its result answers the error). Either read settles the job: the status by its word and that field, the result
# by its 200 (it has no status word).
_FAL_APPS: dict[str, tuple[tuple[str, PriceRule], ...]] = {
    "fal-ai/patina": (
        ("", Megapixels(usd("0.02"), {"0": 1})),
        ("/material", Megapixels(usd("0.04"), {"0": 1, "2": 2, "4": 4})),
        ("/material/extract", Megapixels(usd("0.04"), {"0": 1, "2": 2, "4": 4})),
    ),
    # MiniMax H3 Max through fal, per second: our figures ($0.10 at 768P, $0.05 at 480P).
    "minimax/h3-max": tuple(
        (f"/{kind}", PerSecond(usd("0.1"), by="resolution", table={"480p": usd("0.05")}, most=15))
        for kind in ("text-to-video", "image-to-video", "reference-to-video")
    ),
}


def _fal(app: str, models: tuple[tuple[str, PriceRule], ...]) -> tuple[Operation, ...]:
    requests = f"/{app}/requests"
    submits = tuple(
        Operation(POST, f"/{app}{sub}", SUBMIT, price, job_id="request_id", poll=requests + "/{id}/status")
        for sub, price in models
    )
    return (
        *submits,
        Operation(GET, requests + "/{request_id}", POLL, job_id="path:request_id", done=frozenset({""})),
        Operation(
            GET,
            requests + "/{request_id}/status",
            POLL,
            job_id="path:request_id",
            status="status",
            failure="error_type",
        ),
    )


FAL = Partner(
    "fal",
    "https://queue.fal.run",
    Auth.HEADER,
    tuple(op for app, models in _FAL_APPS.items() for op in _fal(app, models)),
    auth_header="Authorization",
    auth_prefix="Key ",  # fal's scheme; the credential is the bare `id:secret` key
)

VIDEO_3D: tuple[Partner, ...] = (MINIMAX, VIDU, WAN, WAVESPEED, MESHY, FAL)
