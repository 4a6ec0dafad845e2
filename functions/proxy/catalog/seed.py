"""The seed partners (and HitPaw, whose jobs are polled by POST), one entry each: where the partner lives, how its
credential goes in, every live-spec path it serves (by role, price and job protocol), and the paths refused on purpose
with the reason. Prices are micro-USD (`usd("0.04")`); see `prices` for the rules and `statuses` for the status words
every partner shares."""

from __future__ import annotations

from functions.proxy.catalog.model import Auth, Operation, Partner, Refused, Role
from functions.proxy.catalog.prices import Fixed, PartnerCredits, PerSecond, PerUnit, Tokens, usd

GET, POST, PATCH = "GET", "POST", "PATCH"
SYNC, SUBMIT, POLL, FETCH, FREE = Role.SYNC, Role.SUBMIT, Role.POLL, Role.FETCH, Role.FREE
ACCOUNT_WIDE = "reads our whole partner account (every customer's tasks or its bill), not the caller's own"


def _kling_pair(path: str, price: Fixed | PerUnit) -> tuple[Operation, Operation]:
    """A Kling task family: submit at `path`, poll at `path/{id}`."""
    return (
        Operation(POST, path, SUBMIT, price, job_id="data.task_id", status="data.task_status", poll=path + "/{id}"),
        Operation(GET, path + "/{id}", POLL, job_id="path:id", status="data.task_status"),
    )


def _kling_job(path: str, price: Fixed | PerUnit) -> tuple[Operation, Operation, Refused]:
    """A family whose bare GET lists the account's tasks: that one is refused."""
    return (*_kling_pair(path, price), Refused(GET, path, ACCOUNT_WIDE))


_KLING_VIDEO = PerSecond(usd("0.07"), by="mode", table={"pro": usd("0.098"), "std": usd("0.056")}, default_seconds=5)
_KLING = [
    *_kling_job("/v1/videos/text2video", _KLING_VIDEO),
    *_kling_job("/v1/videos/image2video", _KLING_VIDEO),
    *_kling_job("/v1/videos/omni-video", PerSecond(usd("0.112"), default_seconds=5)),
    *_kling_job("/v1/videos/video-extend", Fixed(usd("0.28"))),
    *_kling_job("/v1/videos/lip-sync", Fixed(usd("0.14"))),
    *_kling_job("/v1/videos/effects", Fixed(usd("0.28"))),
    *_kling_job("/v1/images/generations", PerUnit(usd("0.028"))),
    *_kling_job("/v1/images/kolors-virtual-try-on", Fixed(usd("0.07"))),
]
_TURBO_POLL = "/tasks?task_ids={id}"
_KLING_EXTRA = [  # families without a list endpoint in the spec
    *_kling_pair("/v1/images/omni-image", PerUnit(usd("0.028"))),
    *_kling_pair("/v1/videos/avatar/image2video", Fixed(usd("0.5"))),
    *_kling_pair("/v1/videos/motion-control", Fixed(usd("0.5"))),
    # Kling 3.0 Turbo: `data.id` on submit, polled by `GET /tasks?task_ids=<id>`.
    *(
        Operation(POST, f"/{kind}/kling-3.0-turbo", SUBMIT, PerSecond(usd("0.084")), job_id="data.id", poll=_TURBO_POLL)
        for kind in ("text-to-video", "image-to-video")
    ),
    Operation(GET, "/tasks", POLL, job_id="query:task_ids", status="data.0.status"),
    Operation(GET, "/v1/general/advanced-presets-elements", FREE),
]

KLING = Partner(
    "kling",
    "https://api-singapore.klingai.com",
    Auth.KLING_JWT,
    (*(o for o in _KLING if isinstance(o, Operation)), *_KLING_EXTRA),
    refused=(
        *(r for r in _KLING if isinstance(r, Refused)),
        Refused(GET, "/v1/account/costs", ACCOUNT_WIDE),
    ),
)

_GPT_IMAGE = Tokens(usd("0.5"), 10, 40, count="n")
OPENAI = Partner(
    "openai",
    "https://api.openai.com",
    Auth.BEARER,
    (
        # gpt-image-1: $10 per million input tokens, $40 per million output tokens, at most $0.50 an image.
        *(
            Operation(
                POST, f"/images/{kind}", SYNC, Tokens(usd("0.5"), 10, 40, count="n"), upstream=f"/v1/images/{kind}"
            )
            for kind in ("generations", "edits")
        ),
        # A response answered at once (stream:false) is a job that is already over; with stream:true the usage of
        # `response.completed` is the price. Held: $1; metered at GPT-4.1's $2 / $8 per million tokens.
        Operation(
            POST,
            "/v1/responses",
            SUBMIT,
            Tokens(usd("1"), 2, 8),
            job_id="id",
            status="status",
            poll="/v1/responses/{id}",
            done=frozenset({"incomplete"}),
        ),
        Operation(GET, "/v1/responses/{id}", POLL, job_id="path:id", status="status", done=frozenset({"incomplete"})),
        # Sora: per second of video.
        Operation(
            POST,
            "/v1/videos",
            SUBMIT,
            PerSecond(usd("0.1"), count="seconds", default_seconds=4, by="model", table={"sora-2-pro": usd("0.3")}),
            job_id="id",
            status="status",
            poll="/v1/videos/{id}",
        ),
        Operation(GET, "/v1/videos/{id}", POLL, job_id="path:id", status="status"),
        Operation(GET, "/v1/videos/{id}/content", FETCH, job_id="path:id", timeout_seconds=600),
    ),
    timeout_seconds=600,
)

_STABILITY_IMAGE = "/v2beta/stable-image"
STABILITY = Partner(
    "stability",
    "https://api.stability.ai",
    Auth.BEARER,
    (
        Operation(POST, f"{_STABILITY_IMAGE}/generate/ultra", SYNC, Fixed(usd("0.08"))),
        Operation(
            POST,
            f"{_STABILITY_IMAGE}/generate/sd3",
            SYNC,
            PerUnit(usd("0.065"), count="", by="model", table={"sd3.5-medium": usd("0.035")}),
        ),
        Operation(POST, f"{_STABILITY_IMAGE}/upscale/conservative", SYNC, Fixed(usd("0.25"))),
        Operation(POST, f"{_STABILITY_IMAGE}/upscale/fast", SYNC, Fixed(usd("0.01"))),
        Operation(
            POST,
            f"{_STABILITY_IMAGE}/upscale/creative",
            SUBMIT,
            Fixed(usd("0.25")),
            job_id="id",
            poll="/v2beta/results/{id}",
        ),
        # 202 {"status": "in-progress"} while it runs; 200 with the image (or its JSON) when done.
        Operation(
            GET,
            "/v2beta/results/{id}",
            POLL,
            job_id="path:id",
            status="finish_reason",
            done=frozenset({"success", ""}),
            failed=frozenset({"content_filtered"}),
            pending_codes=frozenset({202}),
        ),
        Operation(POST, "/v2beta/audio/stable-audio-2/text-to-audio", SYNC, Fixed(usd("0.2"))),
        Operation(POST, "/v2beta/audio/stable-audio-2/audio-to-audio", SYNC, Fixed(usd("0.2"))),
        Operation(POST, "/v2beta/audio/stable-audio-2/inpaint", SYNC, Fixed(usd("0.2"))),
    ),
)

_RUNWAY_POLL = "/tasks/{id}"
_RUNWAY_VIDEO = PerSecond(usd("0.0715"), default_seconds=5, most=10)
RUNWAY = Partner(
    "runway",
    "https://api.dev.runwayml.com/v1",
    Auth.BEARER,
    (
        Operation(POST, "/image_to_video", SUBMIT, _RUNWAY_VIDEO, job_id="id", poll=_RUNWAY_POLL),
        Operation(POST, "/video_to_video", SUBMIT, _RUNWAY_VIDEO, job_id="id", poll=_RUNWAY_POLL),
        Operation(POST, "/text_to_image", SUBMIT, Fixed(usd("0.11")), job_id="id", poll=_RUNWAY_POLL),
        Operation(GET, "/tasks/{task_id}", POLL, job_id="path:task_id", status="status"),
    ),
    extra_headers={"X-Runway-Version": "2024-11-06"},
)

# Black Forest Labs answers its cost in credits ($0.01 each); the estimate holds the list price.
_BFL_CREDIT = 10_000


def _bfl(path: str, list_price: str) -> Operation:
    """Our `/<model>/generate` is BFL's `/v1/<model>`; the `/v1/...` paths are BFL's own."""
    price = PartnerCredits(Fixed(usd(list_price)), "cost", _BFL_CREDIT)
    upstream = "/v1/" + path.split("/")[1] if path.endswith("/generate") else ""
    return Operation(POST, path, SUBMIT, price, job_id="id", poll="/v1/get_result?id={id}", upstream=upstream)


def _bfl_poll(path: str) -> Operation:
    return Operation(
        GET,
        path,
        POLL,
        job_id="query:id",
        status="status",
        done=frozenset({"ready"}),
        failed=frozenset({"request moderated", "content moderated", "task not found"}),
    )


BFL = Partner(
    "bfl",
    "https://api.bfl.ai",
    Auth.HEADER,
    (
        _bfl("/flux-kontext-pro/generate", "0.04"),
        _bfl("/flux-kontext-max/generate", "0.08"),
        _bfl("/flux-pro-1.1/generate", "0.04"),
        _bfl("/flux-pro-1.1-ultra/generate", "0.06"),
        _bfl("/flux-2-pro/generate", "0.09"),
        _bfl("/flux-2-max/generate", "0.21"),
        _bfl("/flux-pro-1.0-expand/generate", "0.05"),
        _bfl("/flux-pro-1.0-fill/generate", "0.05"),
        _bfl("/flux-pro-1.0-canny/generate", "0.05"),
        _bfl("/flux-pro-1.0-depth/generate", "0.05"),
        _bfl("/v1/flux-3-video", "1.0"),
        _bfl("/v1/flux-tools/erase-v1", "0.05"),
        _bfl("/v1/flux-tools/vto-v1", "0.05"),
        _bfl("/v1/flux-tools/video-upscale-v1", "0.5"),
        # Polled at the partner's own polling_url, kept with the job: the caller's `polling_url` is never followed.
        # `/get_result` is what `comfy generate resume` builds.
        *(_bfl_poll(path) for path in ("/v1/get_result", "/get_result")),
    ),
    auth_header="x-key",
    absolute_polling=True,
)
_IDEOGRAM_V3 = PerUnit(
    usd("0.06"),
    count="num_images",
    by="rendering_speed",
    table={"turbo": usd("0.03"), "quality": usd("0.09")},
)
_IDEOGRAM_V4 = PerUnit(usd("0.06"), count="num_images")
IDEOGRAM = Partner(
    "ideogram",
    "https://api.ideogram.ai",
    Auth.HEADER,
    (
        Operation(POST, "/generate", SYNC, PerUnit(usd("0.08"), count="image_request.num_images")),
        *(
            Operation(POST, f"/ideogram-v3/{kind}", SYNC, _IDEOGRAM_V3, upstream=f"/v1/ideogram-v3/{kind}")
            for kind in ("generate", "edit", "remix", "reframe", "replace-background")
        ),
        Operation(
            POST,
            "/ideogram-v4/generate",
            SYNC,
            PerUnit(usd("0.06"), count="num_images"),
            upstream="/v1/ideogram-v4/generate",
        ),
        Operation(POST, "/text-to-image/p-image-ideogram", SYNC, PerUnit(usd("0.06"), count="num_images")),
    ),
    auth_header="Api-Key",
)

_RECRAFT = PerUnit(usd("0.04"), by="style", table={"vector_illustration": usd("0.08")})
RECRAFT = Partner(
    "recraft",
    "https://external.api.recraft.ai/v1",
    Auth.BEARER,
    (
        Operation(POST, "/image_generation", SYNC, _RECRAFT, upstream="/images/generations"),
        Operation(POST, "/images/imageToImage", SYNC, _RECRAFT),
        Operation(POST, "/images/inpaint", SYNC, _RECRAFT),
        Operation(POST, "/images/replaceBackground", SYNC, _RECRAFT),
        Operation(POST, "/images/vectorize", SYNC, Fixed(usd("0.01"))),
        Operation(POST, "/images/crispUpscale", SYNC, Fixed(usd("0.004"))),
        Operation(POST, "/images/creativeUpscale", SYNC, Fixed(usd("0.25"))),
        Operation(POST, "/images/removeBackground", SYNC, Fixed(usd("0.01"))),
        Operation(POST, "/styles", SYNC, Fixed(usd("0.04"))),
    ),
)

LUMA = Partner(
    "luma",
    "https://api.lumalabs.ai/dream-machine/v1",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/generations",
            SUBMIT,
            PerSecond(usd("0.32"), by="model", table={"ray-flash-2": usd("0.12")}, most=10),
            job_id="id",
            status="state",
            poll="/generations/{id}",
        ),
        Operation(
            POST,
            "/generations/image",
            SUBMIT,
            PerUnit(usd("0.0073"), count="", by="model", table={"photon-flash-1": usd("0.0019")}),
            job_id="id",
            status="state",
            poll="/generations/{id}",
        ),
        Operation(GET, "/generations/{id}", POLL, job_id="path:id", status="state"),
    ),
)

_PIXVERSE = PerUnit(
    usd("0.6"), count="", by="quality", table={"360p": usd("0.45"), "540p": usd("0.45"), "1080p": usd("1.2")}
)
_PIXVERSE_OPS = tuple(
    Operation(POST, f"/video/{kind}/generate", SUBMIT, _PIXVERSE, job_id="Resp.video_id", poll="/video/result/{id}")
    for kind in ("text", "img", "transition", "extend", "fusion")
)
PIXVERSE = Partner(
    "pixverse",
    "https://app-api.pixverse.ai/openapi/v2",
    Auth.HEADER,
    (
        *_PIXVERSE_OPS,
        Operation(
            GET,
            "/video/result/{id}",
            POLL,
            job_id="path:id",
            status="Resp.status",
            done=frozenset({"1"}),
            failed=frozenset({"6", "7", "8"}),
        ),
        Operation(POST, "/image/upload", FREE),
        Operation(POST, "/media/upload", FREE),
    ),
    auth_header="API-KEY",
    trace_header="Ai-trace-id",
)

PIKA = Partner(
    "pika",
    "https://devapi.pika.art",
    Auth.HEADER,
    (
        *(
            Operation(POST, f"/generate/{kind}", SUBMIT, Fixed(usd(price)), job_id="video_id", poll="/videos/{id}")
            for kind, price in (
                ("pikadditions", "0.3"),
                ("pikaswaps", "0.3"),
                ("pikaffects", "0.45"),
                ("2.2/t2v", "0.2"),
                ("2.2/i2v", "0.2"),
                ("2.2/pikaframes", "0.2"),
                ("2.2/pikascenes", "0.3"),
            )
        ),
        Operation(GET, "/videos/{video_id}", POLL, job_id="path:video_id", status="status"),
    ),
    auth_header="X-API-KEY",
)

_TRIPO = PerUnit(
    usd("0.3"),
    count="",
    by="type",
    table={
        "text_to_model": usd("0.2"),
        "refine_model": usd("0.3"),
        "animate_rig": usd("0.25"),
        "animate_retarget": usd("0.1"),
        "texture_model": usd("0.1"),
        "convert_model": usd("0.05"),
        "stylize_model": usd("0.2"),
    },
)
TRIPO = Partner(
    "tripo",
    "https://api.tripo3d.ai",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/v2/openapi/task",
            SUBMIT,
            _TRIPO,
            job_id="data.task_id",
            status="data.status",
            poll="/v2/openapi/task/{id}",
        ),
        Operation(
            GET,
            "/v2/openapi/task/{task_id}",
            POLL,
            job_id="path:task_id",
            status="data.status",
            failed=frozenset({"banned", "expired", "unknown"}),
        ),
        Operation(POST, "/v2/openapi/upload", FREE),
        Operation(POST, "/v2/openapi/import", FREE),
    ),
    refused=(Refused(GET, "/v2/openapi/user/balance", "our account's balance with Tripo, not the caller's"),),
)

_MV_POLL = "/prompts/{id}"
MOONVALLEY = Partner(
    "moonvalley",
    "https://api.moonvalley.ai",
    Auth.BEARER,
    (
        *(
            Operation(POST, f"/prompts/{kind}", SUBMIT, Fixed(usd(price)), job_id="id", status="status", poll=_MV_POLL)
            for kind, price in (
                ("text-to-video", "1.5"),
                ("image-to-video", "1.5"),
                ("video-to-video", "2.25"),
                ("video-to-video/resize", "2.25"),
                ("text-to-image", "0.3"),
            )
        ),
        Operation(GET, "/prompts/{prompt_id}", POLL, job_id="path:prompt_id", status="status"),
        Operation(POST, "/uploads", FREE),
    ),
)


# HitPaw: submit, then POST-poll with the id in the body (`{"job_id": ...}`).
def _hitpaw(path: str, price: Fixed | PerSecond) -> Operation:
    return Operation(
        POST, path, SUBMIT, price, job_id="data.job_id", poll="/api/task-status", poll_method=POST, poll_field="job_id"
    )


HITPAW = Partner(
    "hitpaw",
    "https://api-base.hitpaw.com",
    Auth.HEADER,
    (
        _hitpaw("/api/photo-enhancer", Fixed(usd("0.05"))),
        _hitpaw("/api/video-enhancer", PerSecond(usd("0.05"), default_seconds=10)),
        Operation(POST, "/api/task-status", POLL, job_id="body:job_id", status="data.status"),
    ),
    auth_header="Apikey",
)

# The spec's test partner: answered by the gateway itself, authenticated and free.
DUMMY = Partner("dummy", "", Auth.NONE, (Operation(POST, "", SYNC, Fixed(0)),))

SEED: tuple[Partner, ...] = (
    OPENAI,
    STABILITY,
    RUNWAY,
    BFL,
    KLING,
    IDEOGRAM,
    RECRAFT,
    LUMA,
    PIXVERSE,
    PIKA,
    TRIPO,
    MOONVALLEY,
    HITPAW,
    DUMMY,
)
