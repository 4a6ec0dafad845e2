"""Partners whose upstream auth is signed or minted (Tencent's TC3 signature, Google's OAuth2 tokens) or whose jobs
take several steps (Topaz's upload handshake, Rodin's status then download), and Sonilo's streamed music. Prices are
micro-USD; "our figure" marks a price the reference gives no badge for, taken from the partner's public list price.
Paths and action names are from the live spec and the partners' API pages; the unverified ones are marked so."""

from __future__ import annotations

from functions.proxy.catalog.model import PATH_VALUES, Auth, Operation, Partner, Role
from functions.proxy.catalog.prices import (
    ByFlag,
    Fixed,
    ModelTokens,
    PartnerCredits,
    PerSecond,
    PerUnit,
    Plus,
    Rates,
    Times,
    usd,
)

GET, POST, PATCH = "GET", "POST", "PATCH"
SYNC, SUBMIT, POLL, FETCH = Role.SYNC, Role.SUBMIT, Role.POLL, Role.FETCH


# -- Tencent Hunyuan 3D: every call is `POST /` with its action in `X-TC-Action`, signed TC3-HMAC-SHA256 -------------
# Action names: tencentcloud.com/document/api/1284/75531 (Hunyuan 3D APIs, version 2023-09-01).
def _hunyuan(path: str, submit: str, query: str, price: Fixed | Plus) -> tuple[Operation, Operation]:
    """A Hunyuan job: submitted at `path`, read at `path/query {"JobId"}` (WAIT, RUN, then DONE or FAIL)."""
    return (
        Operation(
            POST,
            path,
            SUBMIT,
            price,
            job_id="Response.JobId",
            poll=f"{path}/query",
            poll_method=POST,
            poll_field="JobId",
            submit_headers={"X-TC-Action": submit},
            upstream="/",
        ),
        Operation(
            POST,
            f"{path}/query",
            POLL,
            job_id="body:JobId",
            status="Response.Status",
            submit_headers={"X-TC-Action": query},
            upstream="/",
        ),
    )


_TENCENT_CREDIT = usd("0.02")  # ComfyUI's badge: (base + options) x $0.02
# Base by generation type (Geometry 15, Normal 25, LowPoly and Sketch 30 credits); PBR materials and a custom face
# count 10 credits each.
_HUNYUAN_PRO = Plus(
    PerUnit(
        25 * _TENCENT_CREDIT,
        count="",
        by="GenerateType",
        table={"geometry": 15 * _TENCENT_CREDIT, "lowpoly": 30 * _TENCENT_CREDIT, "sketch": 30 * _TENCENT_CREDIT},
    ),
    {"EnablePBR": 10 * _TENCENT_CREDIT, "FaceCount": 10 * _TENCENT_CREDIT},
)
TENCENT = Partner(
    "tencent",
    "https://hunyuan.intl.tencentcloudapi.com",
    Auth.TC3,
    (
        *_hunyuan("/hunyuan/3d-pro", "SubmitHunyuanTo3DProJob", "QueryHunyuanTo3DProJob", _HUNYUAN_PRO),
        *_hunyuan("/hunyuan/3d-uv", "SubmitHunyuanTo3DUVJob", "DescribeHunyuanTo3DUVJob", Fixed(usd("0.2"))),
        *_hunyuan(
            "/hunyuan/3d-texture-edit",
            "SubmitHunyuanTo3DTextureEditJob",
            "QueryHunyuanTo3DTextureEditJob",
            Fixed(usd("0.6")),
        ),
        *_hunyuan("/hunyuan/3d-part", "SubmitHunyuan3DPartJob", "QueryHunyuan3DPartJob", Fixed(usd("0.6"))),
        *_hunyuan(
            "/hunyuan/3d-smart-topology", "Submit3DSmartTopologyJob", "Describe3DSmartTopologyJob", Fixed(usd("1.0"))
        ),
    ),
    extra_headers={"X-TC-Version": "2023-09-01", "X-TC-Region": "ap-singapore"},
    error_field="Response.Error",  # Tencent answers its errors (a rate limit too) with HTTP 200
    signing_service="hunyuan",
    timeout_seconds=60,
)

# -- Google: Vertex AI (Gemini, Imagen, Veo) with a service-account key; the Gemini API with an API key ------------
# Per million tokens (Vertex AI's list prices, up to 200k tokens of context); image output at the image rate.
# Models the list does not price yet are ours, at their family's rates.
_GEMINI_RATES = {
    "gemini-2.5-pro": Rates(usd("1.25"), usd("10")),
    "gemini-2.5-flash": Rates(usd("0.3"), usd("2.5")),
    "gemini-2.5-flash-image": Rates(usd("0.3"), usd("2.5"), usd("30")),
    "gemini-3-pro": Rates(usd("2"), usd("12")),
    "gemini-3-pro-image": Rates(usd("2"), usd("12"), usd("120")),
    "gemini-3.1-pro": Rates(usd("2"), usd("12")),  # our figure: 3 Pro's
    "gemini-3.1-flash-image": Rates(usd("0.5"), usd("3"), usd("60")),  # our figure
    "gemini-3.1-flash-lite": Rates(usd("0.25"), usd("1.5")),  # our figure
    "gemini-3.1-flash-lite-image": Rates(usd("0.25"), usd("1.5"), usd("30")),  # our figure
    "gemini-3.5-flash": Rates(usd("0.5"), usd("3")),  # our figure
    "gemini-3.7-flash": Rates(usd("0.5"), usd("3")),  # our figure
}
_GEMINI_TOP = Rates(usd("2"), usd("12"), usd("120"))  # a model the table lacks pays the dearest rates
# Held: $1 (a long answer or a few 4K images); charged by `usageMetadata` at the rates of `modelVersion`.
_GEMINI = ModelTokens(usd("1"), _GEMINI_RATES, _GEMINI_TOP)
_VERTEX = "https://aiplatform.googleapis.com/v1/projects/{project}/locations/global/publishers/google/models"
VERTEXAI = Partner(
    "vertexai",
    _VERTEX,
    Auth.GOOGLE,
    (
        Operation(POST, "/gemini/{model}", SYNC, _GEMINI, upstream="/{model}:generateContent"),
        # Imagen: $0.04 an image ($0.02 for the fast model), times `parameters.sampleCount`.
        Operation(
            POST,
            "/imagen/{model}",
            SYNC,
            PerUnit(
                usd("0.04"),
                count="parameters.sampleCount",
                most=4,
                by=f"{PATH_VALUES}.model",
                table={"imagen-3.0-fast": usd("0.02")},
            ),
            upstream="/{model}:predict",
        ),
    ),
    timeout_seconds=300,
)


# Veo: a second of video by model (our path's `{model_id}`), with audio (the default) or without; times
# `sampleCount` videos. Vertex AI's list prices (ComfyUI's badge: Veo 2 $0.5/s, Veo 3 $0.8-3.2 a clip); Veo 3.1
# Lite is our figure; a model the table lacks pays the dearest, Veo 2's $0.50.
_VEO_AUDIO = {"veo-3.0-generate": "0.4", "veo-3.0-fast": "0.15", "veo-3.1-generate": "0.4", "veo-3.1-fast": "0.15"}
_VEO_AUDIO |= {"veo-3.1-lite": "0.08"}
_VEO_SILENT = {"veo-3.0-generate": "0.2", "veo-3.0-fast": "0.1", "veo-3.1-generate": "0.2", "veo-3.1-fast": "0.1"}
_VEO_SILENT |= {"veo-3.1-lite": "0.05"}


def _veo_price(model: str, table: dict[str, str]) -> PerSecond:
    priced = {name: usd(price) for name, price in table.items()}
    return PerSecond(usd("0.5"), count="parameters.durationSeconds", default_seconds=8, most=8, by=model, table=priced)


def _veo_generate(model: str) -> Times:
    audio = ByFlag("parameters.generateAudio", _veo_price(model, _VEO_AUDIO), _veo_price(model, _VEO_SILENT))
    return Times(audio, "parameters.sampleCount", most=4)


def _veo_submit(path: str, model: str, poll: str) -> Operation:
    """predictLongRunning answers the operation's `name`; the poll names it back (`operationName`)."""
    return Operation(
        POST,
        path,
        SUBMIT,
        _veo_generate(f"{PATH_VALUES}.model_id"),
        job_id="name",
        poll=poll,
        poll_method=POST,
        poll_field="operationName",
        upstream=f"/{model}:predictLongRunning",
    )


def _veo_poll(path: str, model: str) -> Operation:
    """`done: true` ends it: failed with an `error`, or with no video (every one filtered by Google's RAI)."""
    return Operation(
        POST,
        path,
        POLL,
        job_id="body:operationName",
        status="done",
        failure="error",
        output="response.videos",
        upstream=f"/{model}:fetchPredictOperation",
    )


VEO = Partner(
    "veo",
    "https://us-central1-aiplatform.googleapis.com/v1/projects/{project}/locations/us-central1/publishers/google/models",
    Auth.GOOGLE,
    (
        # The poll path names the submit's model (the follower fills it from the submit path).
        _veo_submit("/{model_id}/generate", "{model_id}", "/{model_id}/poll"),
        _veo_poll("/{model_id}/poll", "{model_id}"),
        # The deprecated unversioned pair: Veo 2 (priced as such: no `model_id`, so the table's default).
        _veo_submit("/generate", "veo-2.0-generate-001", "/poll"),
        _veo_poll("/poll", "veo-2.0-generate-001"),
    ),
    timeout_seconds=300,
)

# The Gemini API's Interactions (`x-goog-api-key`): answered at once when complete, else read back by id; billed by
# `usage` at the model's rates (an unlisted model such as the video-editing omni models at the dearest). Held: $2,
# our figure for a long interaction with generated video. Files the interaction names are its owner's to read.
_INTERACTION_FILES = r"files/([A-Za-z0-9_-]+)"
_INTERACTION_DONE = frozenset({"incomplete", "requires_action"})
_INTERACTION_FAILED = frozenset({"budget_exceeded"})
_INTERACTIONS = ModelTokens(
    usd("2"),
    _GEMINI_RATES,
    _GEMINI_TOP,
    model_field="model",
    input_fields=("usage.total_input_tokens",),
    output_fields=("usage.total_output_tokens", "usage.total_thought_tokens"),
    modalities="usage.output_tokens_by_modality",
    count_key="tokens",
)
GEMINI_INTERACTIONS = Partner(
    "gemini-interactions",
    "https://generativelanguage.googleapis.com/v1beta",
    Auth.HEADER,
    (
        Operation(
            POST,
            "",
            SUBMIT,
            _INTERACTIONS,
            job_id="id",
            status="status",
            poll="/{id}",
            done=_INTERACTION_DONE,
            failed=_INTERACTION_FAILED,
            alias_pattern=_INTERACTION_FILES,
            upstream="/interactions",
        ),
        Operation(
            GET,
            "/{id}",
            POLL,
            job_id="path:id",
            status="status",
            done=_INTERACTION_DONE,
            failed=_INTERACTION_FAILED,
            alias_pattern=_INTERACTION_FILES,
            upstream="/interactions/{id}",
        ),
        # Metadata, or the bytes with `:download` and `alt=media` (the download host's path is [unverified]).
        Operation(GET, "/files/{name}", FETCH, job_id="path:name", id_suffix=":download", timeout_seconds=600),
    ),
    auth_header="x-goog-api-key",
    timeout_seconds=600,
)

# -- Topaz (`X-API-Key`): credits at $0.08 each, as ComfyUI's client prices them ------------------------------------
_TOPAZ_CREDIT = usd("0.08")
_TOPAZ_IMAGE_DONE = frozenset({"completed"})
TOPAZ = Partner(
    "topaz",
    "https://api.topazlabs.com",
    Auth.HEADER,
    (
        # Image: our hold is 5 credits (+50%); the status's `credits` is the price.
        Operation(
            POST,
            "/image/v1/enhance-gen/async",
            SUBMIT,
            PartnerCredits(Fixed(5 * _TOPAZ_CREDIT), "credits", _TOPAZ_CREDIT),
            job_id="process_id",
            poll="/image/v1/status/{id}",
        ),
        Operation(GET, "/image/v1/status/{process_id}", POLL, job_id="path:process_id", status="status"),
        Operation(GET, "/image/v1/download/{process_id}", FETCH, job_id="path:process_id"),
        # Video: created (the price is the upper estimate, `estimates.cost`), then the owner accepts it for presigned
        # upload URLs, PUTs the file straight to them, and completes the upload, which starts the work. Our hold is
        # half a credit a second of the source (+50%).
        Operation(
            POST,
            "/video/",
            SUBMIT,
            PartnerCredits(
                PerSecond(_TOPAZ_CREDIT // 2, count="source.duration", default_seconds=60, most=3600),
                "estimates.cost.1",
                _TOPAZ_CREDIT,
            ),
            job_id="requestId",
            poll="/video/{id}/status",
        ),
        Operation(PATCH, "/video/{request_id}/accept", FETCH, job_id="path:request_id"),
        Operation(PATCH, "/video/{request_id}/complete-upload", FETCH, job_id="path:request_id"),
        Operation(GET, "/video/{request_id}/status", POLL, job_id="path:request_id", status="status"),
    ),
    auth_header="X-API-Key",
)

# -- Rodin (Hyper3D; host [unverified]): $0.40 a generation -----------------------------------------------------------
# The submit answers the task `uuid` (what the download names) and a `subscription_key` (what the status names): the
# job is kept under the key, the uuid recorded as its alias. Done when every sub-job is Done; failed if any Failed.
RODIN = Partner(
    "rodin",
    "https://hyperhuman.deemos.com",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/api/v2/rodin",
            SUBMIT,
            Fixed(usd("0.4")),
            job_id="jobs.subscription_key",
            aliases=("uuid",),
            poll="/api/v2/status",
            poll_method=POST,
            poll_field="subscription_key",
        ),
        Operation(POST, "/api/v2/status", POLL, job_id="body:subscription_key", status="jobs.*.status"),
        Operation(POST, "/api/v2/download", FETCH, job_id="body:task_uuid"),
    ),
)

# -- Sonilo (host and bearer auth [unverified]): music streamed as newline-delimited JSON, charged when it ends -------
# Our figures: $0.005 a second of music asked for; a video's score $1.20 (up to the 6-minute limit).
SONILO = Partner(
    "sonilo",
    "https://api.sonilo.ai",
    Auth.BEARER,
    (
        Operation(POST, "/t2m/generate", SYNC, PerSecond(usd("0.005"), default_seconds=60, most=360)),
        Operation(POST, "/v2m/generate", SYNC, Fixed(usd("1.2"))),
    ),
    timeout_seconds=600,
)

SIGNED_STEPS: tuple[Partner, ...] = (TENCENT, VERTEXAI, VEO, GEMINI_INTERACTIONS, TOPAZ, RODIN, SONILO)
