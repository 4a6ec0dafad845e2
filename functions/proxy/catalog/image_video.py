"""The image and video partners of the live spec, one catalog entry each (see `seed` for the shape, `prices` and
`image_video_prices` for the rules). Prices are ComfyUI's price badges where it has one; "our figure" marks the
others. Paths refused on purpose say why."""

from __future__ import annotations

from functions.proxy.catalog.image_video_prices import (
    SEEDANCE,
    AnswerSeconds,
    ByField,
    KreaImage,
    LtxVideo,
    ReveCredits,
    SeedreamImages,
)
from functions.proxy.catalog.model import Auth, Operation, Partner, Refused, Role
from functions.proxy.catalog.prices import Fixed, PerSecond, PerUnit, Tokens, usd

GET, POST = "GET", "POST"
SYNC, SUBMIT, POLL, FREE = Role.SYNC, Role.SUBMIT, Role.POLL, Role.FREE


# -- Bria: every edit is a job answered 202 {request_id, status_url}, polled at /v2/status/{request_id} ------------
def _bria(path: str, price: Fixed | PerSecond) -> Operation:
    """A `sync: true` request is answered 200 with the result and no status word: settled at once (done on "")."""
    return Operation(
        POST,
        path,
        SUBMIT,
        price,
        job_id="request_id",
        status="status",
        poll="/v2/status/{id}",
        done=frozenset({""}),
        failed=frozenset({"unknown"}),
        pending_codes=frozenset({202}),
    )


_BRIA_IMAGE = Fixed(usd("0.04"))  # our figure: Bria's list price of an image edit, the top of its $0.018-0.04
# Our figure: the video's length is not in the request (it is a URL, at most 60 s), so a clip is priced as 10 s at
# the badge's $0.05 a second.
_BRIA_VIDEO = PerSecond(usd("0.05"), default_seconds=10)
BRIA = Partner(
    "bria",
    "https://engine.prod.bria-api.com",
    Auth.HEADER,
    (
        _bria("/v2/image/edit", _BRIA_IMAGE),
        _bria("/v2/image/edit/erase", _BRIA_IMAGE),
        _bria("/v2/image/edit/expand", _BRIA_IMAGE),
        _bria("/v2/image/edit/gen_fill", _BRIA_IMAGE),
        _bria("/v2/image/edit/increase_resolution", _BRIA_IMAGE),
        _bria("/v2/image/edit/remove_background", Fixed(usd("0.018"))),
        _bria("/v2/structured_instruction/generate", Fixed(usd("0.01"))),  # our figure: a VLM call, no image
        *(_bria(f"/v2/video/edit/{kind}", _BRIA_VIDEO) for kind in ("green_screen", "remove_background")),
        _bria("/v2/video/edit/replace_background", _BRIA_VIDEO),
        Operation(
            GET,
            "/v2/status/{request_id}",
            POLL,
            job_id="path:request_id",
            status="status",
            failed=frozenset({"unknown"}),
        ),
    ),
    auth_header="api_token",
)

# -- BytePlus ModelArk: Seedream images (sync), Seedance video tasks, files, responses -----------------------------
_TASKS = "/api/v3/contents/generations/tasks"
_BYTEPLUS_FAILED = frozenset({"expired"})
_SEEDREAM = SeedreamImages(
    {
        "seedream-3-0": usd("0.03"),
        "seededit-3-0": usd("0.03"),
        "seedream-4-0": usd("0.03"),
        "seedream-4-5": usd("0.04"),
        "seedream-5-0": usd("0.035"),  # our figure: between 4.5 and 4.0
        "seedream-5-0-pro": usd("0.05"),  # our figure
    },
    default=usd("0.04"),
)
BYTEPLUS = Partner(
    "byteplus",
    "https://ark.ap-southeast.bytepluses.com",
    Auth.BEARER,
    (
        Operation(POST, "/api/v3/images/generations", SYNC, _SEEDREAM),
        # Seedance 1.x and 2.x (and `comfy generate seedance`, whose settings may be inline in the prompt).
        Operation(POST, _TASKS, SUBMIT, SEEDANCE, job_id="id", status="status", poll=_TASKS + "/{id}"),
        Operation(GET, _TASKS + "/{task_id}", POLL, job_id="path:task_id", status="status", failed=_BYTEPLUS_FAILED),
        # An upload is a job of its own (processing, then active): only its uploader may read it. Our figure: a
        # nominal $0.001, since ModelArk bills the file's use, not its upload, and a submit must have a price.
        Operation(
            POST,
            "/api/v3/files",
            SUBMIT,
            Fixed(usd("0.001")),
            job_id="id",
            status="status",
            poll="/api/v3/files/{id}",
            done=frozenset({"active"}),
        ),
        Operation(GET, "/api/v3/files/{id}", POLL, job_id="path:id", status="status", done=frozenset({"active"})),
        # Our figure: $1 / $4 a million tokens in / out (Seed 1.6's list price rounded up to whole micro-USD),
        # held at $0.50.
        Operation(POST, "/api/v3/responses", SYNC, Tokens(usd("0.5"), 1, 4)),
    ),
    refused=(
        Refused(
            POST,
            "/api/v3/tts/create",
            "is served by another BytePlus host (voice.ap-southeast-1.bytepluses.com) with a credential of its own, "
            "and a partner has one upstream here",
        ),
    ),
    timeout_seconds=300,
)

# Seedance 2.x tasks are submitted at `byteplus` and polled here (ComfyUI's Seedance 2.0 nodes): the same ModelArk.
# ComfyUI's Seedance 2.0 nodes submit at `byteplus` and poll here: the caller's job is found among `byteplus` jobs.
BYTEPLUS_SEEDANCE2 = Partner(
    "byteplus-seedance2",
    "https://ark.ap-southeast.bytepluses.com",
    Auth.BEARER,
    (Operation(GET, _TASKS + "/{task_id}", POLL, job_id="path:task_id", status="status", failed=_BYTEPLUS_FAILED),),
    jobs_of="byteplus",
)

# AI MediaKit video enhancement [unverified upstream]. Our figure: $0.02 a second of the enhanced video (its
# `result.duration`), held for 120 s.
BYTEPLUS_MEDIAKIT = Partner(
    "byteplusmediakit",
    "https://mediakit.ap-southeast-1.bytepluses.com",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/api/v1/tools/enhance-video",
            SUBMIT,
            AnswerSeconds(usd("0.02"), "result.duration", 120),
            job_id="task_id",
            poll="/api/v1/tasks/{id}",
        ),
        Operation(GET, "/api/v1/tasks/{task_id}", POLL, job_id="path:task_id", status="status"),
    ),
    timeout_seconds=300,
)

# -- Seedance helpers: assets and real-person verification (Comfy's own fan-out over BytePlus) [unverified
# upstream]. Every read here is by the id a create of the caller's answered; lists are refused.
_CALLERS_GROUPS = (
    "lists our whole BytePlus account's verification groups and assets (every customer's, people's likenesses "
    "among them): the gateway keeps no record of which group is whose"
)
SEEDANCE_HELPERS = Partner(
    "seedance",
    "https://ark.ap-southeast.bytepluses.com/api/v3/seedance",
    Auth.BEARER,
    (
        # Our figure: $0.01 for a verification session or a library asset (a submit must have a price); captured
        # when the session completes or the asset is active, released when either fails.
        Operation(
            POST,
            "/visual-validate/sessions",
            SUBMIT,
            Fixed(usd("0.01")),
            job_id="session_id",
            poll="/visual-validate/sessions/{id}",
        ),
        Operation(GET, "/visual-validate/sessions/{session_id}", POLL, job_id="path:session_id", status="status"),
        Operation(POST, "/virtual-library/assets", SUBMIT, Fixed(usd("0.01")), job_id="asset_id", poll="/assets/{id}"),
        Operation(GET, "/assets/{asset_id}", POLL, job_id="path:asset_id", status="status", done=frozenset({"active"})),
    ),
    refused=(
        Refused(GET, "/assets", _CALLERS_GROUPS),
        Refused(GET, "/visual-validate/groups", _CALLERS_GROUPS),
        Refused(
            POST,
            "/assets",
            "adds an asset to a verification group named by id, and the gateway cannot tell whether that group "
            "(a verified person's consent) is the caller's",
        ),
    ),
)

# -- Freepik (Magnific): submit answers data.task_id, polled at <path>/{task_id}; data.status -----------------------
_FREEPIK = "/v1/ai"
# The upscalers are billed by the input's megapixels, which the gateway cannot see (the image is a URL). Our figure:
# ComfyUI's badge maximum for the creative upscaler by scale (inputs up to 6.4 MP at 2x), for both upscalers.
_UPSCALE = PerUnit(
    usd("0.515"),
    count="",
    by="scale_factor",
    table={"2": usd("0.515"), "4": usd("0.844"), "8": usd("1.015"), "16": usd("1.187")},
)


def _freepik(path: str, price: Fixed | PerUnit, poll: str = "", job_id: str = "data.task_id") -> Operation:
    return Operation(POST, f"{_FREEPIK}/{path}", SUBMIT, price, job_id=job_id, poll=f"{_FREEPIK}/{poll or path}/{{id}}")


def _freepik_poll(path: str) -> Operation:
    return Operation(GET, f"{_FREEPIK}/{path}/{{task_id}}", POLL, job_id="path:task_id", status="data.status")


FREEPIK = Partner(
    "freepik",
    "https://api.freepik.com",
    Auth.HEADER,
    (
        _freepik("image-upscaler", _UPSCALE),
        _freepik("image-upscaler-precision-v2", _UPSCALE),
        _freepik("image-relight", Fixed(usd("0.11"))),
        # The spec answers this submit unwrapped ({task_id, status}); its poll, like the others, in `data`.
        _freepik("image-style-transfer", Fixed(usd("0.11")), job_id="task_id"),
        _freepik("skin-enhancer/creative", Fixed(usd("0.29")), poll="skin-enhancer"),
        _freepik("skin-enhancer/faithful", Fixed(usd("0.37")), poll="skin-enhancer"),
        _freepik("skin-enhancer/flexible", Fixed(usd("0.45")), poll="skin-enhancer"),
        *(
            _freepik_poll(path)
            for path in (
                "image-upscaler",
                "image-upscaler-precision-v2",
                "image-relight",
                "image-style-transfer",
                "skin-enhancer",
            )
        ),
    ),
    auth_header="x-freepik-api-key",
)

# -- Krea 2: a job {job_id, status}, polled at /jobs/{job_id}; result.urls ------------------------------------------
_KREA = "/generate/image/krea/krea-2"
KREA = Partner(
    "krea",
    "https://api.krea.ai",
    Auth.BEARER,
    (
        *(
            Operation(POST, f"{_KREA}/{size}", SUBMIT, price, job_id="job_id", status="status", poll="/jobs/{id}")
            for size, price in (
                ("medium-turbo", KreaImage(usd("0.015"), usd("0.0175"), usd("0.02"))),
                ("medium", KreaImage(usd("0.03"), usd("0.035"), usd("0.04"))),
                ("large", KreaImage(usd("0.06"), usd("0.065"), usd("0.07"))),
            )
        ),
        Operation(GET, "/jobs/{job_id}", POLL, job_id="path:job_id", status="status"),
        Operation(POST, "/assets", FREE),  # a style reference's upload
    ),
)

# -- LTX: v1 answers the MP4 itself (streamed, priced by the request), v2 is a job ---------------------------------
# ComfyUI's badge, a second: pro $0.06 / $0.12 / $0.24 at 1080p / 1440p / 2160p, fast $0.04 / $0.08 / $0.16. Our
# figure: 720p at the 1080p rate.
_LTX = LtxVideo(
    {
        "pro": {1280: usd("0.06"), 1920: usd("0.06"), 2560: usd("0.12"), 3840: usd("0.24")},
        "fast": {1280: usd("0.04"), 1920: usd("0.04"), 2560: usd("0.08"), 3840: usd("0.16")},
    }
)
# Our figure: audio-to-video's length is the audio's, not in the request: priced as 10 s.
_LTX_AUDIO = LtxVideo(_LTX.rates, default_seconds=10)
LTX = Partner(
    "ltx",
    "https://api.ltx.video",
    Auth.BEARER,
    (
        *(Operation(POST, f"/v1/{kind}-to-video", SYNC, _LTX, timeout_seconds=600) for kind in ("text", "image")),
        *(
            Operation(POST, f"/v2/{kind}-to-video", SUBMIT, price, job_id="id", poll=f"/v2/{kind}-to-video/{{id}}")
            for kind, price in (("text", _LTX), ("image", _LTX), ("audio", _LTX_AUDIO))
        ),
        *(
            Operation(GET, f"/v2/{kind}-to-video/{{job_id}}", POLL, job_id="path:job_id", status="status")
            for kind in ("text", "image", "audio")
        ),
    ),
    timeout_seconds=600,
)

# -- Luma Agents: {id, state}, polled at /generations/{id}; output[].url [unverified upstream] ---------------------
# Our figures: $0.04 an image; video by resolution a second (720p at Ray 2's $0.32, as `luma`), 5 s unless asked.
_LUMA_VIDEO = PerSecond(
    usd("0.32"),
    count="video.duration",
    by="video.resolution",
    table={"360p": usd("0.12"), "540p": usd("0.16"), "720p": usd("0.32"), "1080p": usd("0.64")},
    most=10,
)
LUMA_2 = Partner(
    "luma_2",
    "https://api.lumalabs.ai/agents/v1",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/generations",
            SUBMIT,
            ByField("type", {"video": _LUMA_VIDEO}, Fixed(usd("0.04"))),
            job_id="id",
            status="state",
            poll="/generations/{id}",
        ),
        Operation(GET, "/generations/{generation_id}", POLL, job_id="path:generation_id", status="state"),
    ),
)

# -- Reve: sync; image bytes (or JSON) with the credits used in `x-reve-credits-used` -----------------------------
# Held: ComfyUI's badge (create $0.03432, edit/remix $0.0572, their fast models $0.01001; more when upscaled) plus
# half; charged: the credits Reve reports, at 524.48 a dollar.
# ComfyUI's node and `comfy generate` both read the image bytes: asked for when the caller accepts anything.
_REVE_IMAGE = "image/webp"
_UPSCALED_CREATE = {2: usd("0.0457"), 3: usd("0.0591"), 4: usd("0.0762")}
_UPSCALED_EDIT = {2: usd("0.0686"), 3: usd("0.0819"), 4: usd("0.0991")}
REVE = Partner(
    "reve",
    "https://api.reve.com",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/v1/image/create",
            SYNC,
            ReveCredits(usd("0.03432"), usd("0.01001"), _UPSCALED_CREATE),
            default_accept=_REVE_IMAGE,
        ),
        *(
            Operation(
                POST,
                f"/v1/image/{kind}",
                SYNC,
                ReveCredits(usd("0.0572"), usd("0.01001"), _UPSCALED_EDIT),
                default_accept=_REVE_IMAGE,
            )
            for kind in ("edit", "remix")
        ),
    ),
)

IMAGE_VIDEO: tuple[Partner, ...] = (
    BRIA,
    BYTEPLUS,
    BYTEPLUS_SEEDANCE2,
    BYTEPLUS_MEDIAKIT,
    SEEDANCE_HELPERS,
    FREEPIK,
    KREA,
    LTX,
    LUMA_2,
    REVE,
)
