"""Partners of the live spec, one catalog entry each (see `seed` for the shape and `prices` for the rules): the language
models (Anthropic, OpenRouter), the image and SVG makers (xAI, Meta, Qwen, Quiver), Comfy Cloud's curated workflows,
speech and audio (ElevenLabs, Fish Audio), and the avatar, lip-sync and compositing jobs (HeyGen, Sync Labs, Beeble).
Where a figure below says "our figure", no ComfyUI price badge gives it: it is a list price we chose from the
partner's public pricing or the spec's description."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from functions.proxy.catalog.model import Auth, Operation, Partner, PriceRule, Refused, Role
from functions.proxy.catalog.prices import Fixed, PartnerCredits, PerSecond, PerUnit, Tokens, dig, number, usd

GET, POST = "GET", "POST"
SYNC, SUBMIT, POLL, FREE = Role.SYNC, Role.SUBMIT, Role.POLL, Role.FREE


def _micros(amount: Decimal, most: int) -> int | None:
    """Whole micro-USD (rounded up), at most `most`; None for a value that is no amount."""
    if not amount.is_finite() or amount < 0:
        return None
    return min(int(amount.to_integral_value(ROUND_CEILING)), most)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


# -- price rules of this group ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportedUSD:
    """The partner's own bill for the call (OpenRouter's `usage.cost` in dollars, xAI's `cost_in_usd_ticks` at 1e10 a
    dollar), at most the hold; without it, `fallback`'s reading (None: the hold)."""

    base: PriceRule
    field: str
    per_usd: int = 1
    fallback: PriceRule | None = None

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.base.estimate(fields)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        amount = _decimal(dig(answer, self.field))
        found = _micros(amount * 1_000_000 / self.per_usd, estimate) if amount is not None else None
        if found is None and self.fallback is not None:
            return self.fallback.actual(answer, headers, estimate)
        return found


@dataclass(frozen=True)
class ClaudeTokens:
    """Anthropic's tokens at the answering model's rates (USD per million tokens, by the longest model-name prefix),
    cache writes at 1.25x and cache reads at 0.1x the input rate; at most the hold. A stream's usage is read with the
    model its `message_start` named; a model the table lacks is read at the highest rates (`default`), never below
    what the partner bills us."""

    hold: int
    rates: Mapping[str, tuple[str, str]]
    default: tuple[str, str]

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.hold

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        usage = dig(answer, "usage")
        counts = [dig(usage, name) for name in ("input_tokens", "output_tokens")]
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            return None
        cached = [dig(usage, n) for n in ("cache_creation_input_tokens", "cache_read_input_tokens")]
        written, read = (c if isinstance(c, int) and not isinstance(c, bool) else 0 for c in cached)
        model = str(dig(answer, "model") or "").lower()
        found = max((name for name in self.rates if model.startswith(name)), key=len, default=None)
        rate_in, rate_out = (Decimal(r) for r in (self.rates[found] if found else self.default))
        tokens_in = Decimal(counts[0]) + Decimal(written) * Decimal("1.25") + Decimal(read) * Decimal("0.1")
        return _micros(tokens_in * rate_in + Decimal(counts[1]) * rate_out, estimate)


@dataclass(frozen=True)
class Characters:
    """Speech priced by the characters of the request's text (`field`: a string, or a list of `{text}` lines)."""

    micros_per_thousand: int
    field: str = "text"

    def estimate(self, fields: Mapping[str, Any]) -> int:
        value = dig(fields, self.field)
        if isinstance(value, list):
            count = sum(len(str(line.get("text") or "")) for line in value if isinstance(line, Mapping))
        else:
            count = len(value) if isinstance(value, str) else 0
        return math.ceil(max(count, 1) * self.micros_per_thousand / 1000)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class ReportedSeconds:
    """`micros` a second of the media the partner reports (`field`: seconds, or timed words whose last `end` is the
    length), at most the hold: the request's `count` seconds, or `hold_seconds` where the request cannot say."""

    micros: int
    field: str
    hold_seconds: int
    count: str = ""

    def estimate(self, fields: Mapping[str, Any]) -> int:
        seconds = self.hold_seconds
        if self.count:
            seconds = number(dig(fields, self.count), self.hold_seconds, most=self.hold_seconds)
        return self.micros * seconds

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        value = dig(answer, self.field)
        if isinstance(value, list):  # ElevenLabs' words: the last one ends where the audio does
            ends = [_decimal(w.get("end")) for w in value if isinstance(w, Mapping)]
            value = max((e for e in ends if e is not None and e.is_finite()), default=None)
        seconds = _decimal(value) if not isinstance(value, Decimal) else value
        if seconds is None or not seconds.is_finite() or seconds < 0:
            return None
        return min(max(1, math.ceil(seconds)) * self.micros, estimate)


@dataclass(frozen=True)
class OnePerCall:
    """`base`, for a request naming at most one of `field` (HeyGen answers one job per target language, and only one
    job can be recorded for a call): more is refused before the partner is reached (an estimate of 0 is the gateway's
    `unpriced_operation`), so nobody pays for results they could not fetch."""

    base: PriceRule
    field: str

    def estimate(self, fields: Mapping[str, Any]) -> int:
        value = dig(fields, self.field)
        return 0 if isinstance(value, list) and len(value) > 1 else self.base.estimate(fields)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return self.base.actual(answer, headers, estimate)


# -- language models --------------------------------------------------------------------------------------------------

# Anthropic's list prices, USD per million input / output tokens; held: $1 a message (our figure).
_CLAUDE = ClaudeTokens(
    usd("1"),
    rates={
        "claude-opus-4-5": ("5", "25"),
        "claude-opus-4-6": ("5", "25"),
        "claude-opus-4": ("15", "75"),
        "claude-3-opus": ("15", "75"),
        "claude-sonnet": ("3", "15"),
        "claude-3-7-sonnet": ("3", "15"),
        "claude-3-5-sonnet": ("3", "15"),
        "claude-haiku-4": ("1", "5"),
        "claude-3-5-haiku": ("0.8", "4"),
        "claude-3-haiku": ("0.25", "1.25"),
    },
    default=("15", "75"),
)
ANTHROPIC = Partner(
    "anthropic",
    "https://api.anthropic.com",
    Auth.HEADER,
    (Operation(POST, "/v1/messages", SYNC, _CLAUDE),),
    auth_header="x-api-key",
    extra_headers={"anthropic-version": "2023-06-01"},
    timeout_seconds=600,
)

# OpenRouter bills in dollars (`usage.cost`); held: $1 (our figure). Without a cost, the tokens at $3 / $15 per
# million (a mid-range model: our figure).
_OPENROUTER_TOKENS = Tokens(usd("1"), 3, 15, "usage.prompt_tokens", "usage.completion_tokens")
_OPENROUTER = ReportedUSD(Fixed(usd("1")), "usage.cost", fallback=_OPENROUTER_TOKENS)
OPENROUTER = Partner(
    "openrouter",
    "https://openrouter.ai",
    Auth.BEARER,
    (Operation(POST, "/api/v1/chat/completions", SYNC, _OPENROUTER),),
    timeout_seconds=600,
)

# -- images and SVGs --------------------------------------------------------------------------------------------------

_TICKS = 10**10  # xAI's ticks in a dollar


def _xai(path: str, base: PerUnit | PerSecond) -> Operation:
    """An image (sync) or a video (a job polled at `/v1/videos/{id}`), priced by the ticks xAI reports."""
    price = ReportedUSD(base, "usage.cost_in_usd_ticks", _TICKS)
    if isinstance(base, PerSecond):
        return Operation(POST, path, SUBMIT, price, job_id="request_id", poll="/v1/videos/{id}")
    return Operation(POST, path, SYNC, price)


# Images $0.02-0.07 each (held at the top), videos $0.05-0.07 a second; the partner's ticks are the price.
XAI = Partner(
    "xai",
    "https://api.x.ai",
    Auth.BEARER,
    (
        _xai("/v1/images/generations", PerUnit(usd("0.07"))),
        _xai("/v1/images/edits", PerUnit(usd("0.07"))),
        _xai("/v1/videos/generations", PerSecond(usd("0.07"), default_seconds=8, most=15)),
        _xai("/v1/videos/edits", PerSecond(usd("0.07"), default_seconds=8, most=8)),  # inputs of 8 s at most
        _xai("/v1/videos/extensions", PerSecond(usd("0.07"), default_seconds=6, most=10)),
        # 202 {"status": "pending"} while it runs; 200 {"status": "done", "video": {"url"}} when it is over.
        Operation(
            GET,
            "/v1/videos/{request_id}",
            POLL,
            job_id="path:request_id",
            status="status",
            failed=frozenset({"expired"}),
            pending_codes=frozenset({202}),
            output="video.url",  # done without a video: moderation withheld it (`respect_moderation` false)
        ),
    ),
    timeout_seconds=300,
)

# Muse image: $0.04 an image (our figure; the answer's token usage is "for reference only").
META = Partner(
    "meta",
    "https://api.llama.com",
    Auth.BEARER,
    tuple(Operation(POST, f"/v1/images/{kind}", SYNC, PerUnit(usd("0.04"))) for kind in ("generations", "edits")),
    timeout_seconds=300,
)

# Qwen-Image 3.0: $0.04 an image, Pro $0.075 (our figures), times `parameters.n` (1-6).
_QWEN = PerUnit(usd("0.04"), count="parameters.n", most=6, by="model", table={"qwen-image-3.0-pro": usd("0.075")})
QWEN = Partner(
    "qwen",
    "https://dashscope-intl.aliyuncs.com",
    Auth.BEARER,
    (Operation(POST, "/api/v1/services/aigc/multimodal-generation/generation", SYNC, _QWEN),),
    timeout_seconds=300,
)

# Quiver answers its cost in credits (`credits`, "use this for billing"); at $0.01 a credit and a $0.20 list price an
# SVG (our figures), held with the usual half again.
_SVG = usd("0.2")
QUIVER = Partner(
    "quiver",
    "https://api.quiver.ai",
    Auth.BEARER,
    (
        Operation(POST, "/v1/svgs/generations", SYNC, PartnerCredits(PerUnit(_SVG, most=16), "credits", usd("0.01"))),
        Operation(POST, "/v1/svgs/vectorizations", SYNC, PartnerCredits(Fixed(_SVG), "credits", usd("0.01"))),
    ),
    timeout_seconds=300,
)

# -- Comfy Cloud ------------------------------------------------------------------------------------------------------

# A curated workflow on Comfy Cloud's GPUs: $0.02 a second of requested output, 5 s for a still (our figure).
_WORKFLOW = PerSecond(usd("0.02"), count="inputs.duration_seconds", default_seconds=5, most=300)
_TASK = "/workflow/tasks/{task_id}"
COMFY_CLOUD = Partner(
    "comfy-cloud",
    "https://cloud.comfy.org/api",
    Auth.BEARER,
    (
        Operation(
            POST,
            "/workflow/generate",
            SUBMIT,
            _WORKFLOW,
            job_id="task_id",
            status="status",
            poll="/workflow/tasks/{id}",
        ),
        Operation(GET, _TASK, POLL, job_id="path:task_id", status="status"),
        # The caller's own task only (a poll's ownership check); its answer (`cancellation_requested`) settles
        # nothing: the task's own `cancelled` state, polled later, releases the hold.
        Operation(POST, _TASK + "/cancel", POLL, job_id="path:task_id"),
    ),
)

# -- speech and audio -------------------------------------------------------------------------------------------------

_VOICES_OF_OUR_ACCOUNT = (
    "lists our ElevenLabs account's voices, the instant clones every customer made through /v1/voices/add among "
    "them; the live service pins category=premade, which the gateway cannot yet pin on the query"
)
# ComfyUI's badges: $0.24 per 1,000 characters of speech; about $0.24 a minute of changed or isolated audio (held
# as one minute: the upload's length is not readable before the call); sound effects about $0.14 a minute (by the
# requested length, 30 s when unset); transcription $0.0073 a minute, read from the answer's timed words (held: an
# hour).
_SOUND_EFFECT = PerSecond(usd("0.0024"), count="duration_seconds", default_seconds=30, most=30)
ELEVENLABS = Partner(
    "elevenlabs",
    "https://api.elevenlabs.io",
    Auth.HEADER,
    (
        Operation(POST, "/v1/text-to-speech/{voice_id}", SYNC, Characters(usd("0.24"))),
        Operation(POST, "/v1/text-to-dialogue", SYNC, Characters(usd("0.24"), field="inputs")),
        Operation(POST, "/v1/speech-to-speech/{voice_id}", SYNC, Fixed(usd("0.24"))),
        Operation(POST, "/v1/audio-isolation", SYNC, Fixed(usd("0.24"))),
        Operation(POST, "/v1/sound-generation", SYNC, _SOUND_EFFECT),
        Operation(POST, "/v1/speech-to-text", SYNC, ReportedSeconds(122, "words", hold_seconds=3600)),
        # An instant voice clone: ElevenLabs bills its use (speech), not its making, so it is a free helper.
        Operation(POST, "/v1/voices/add", FREE),
        # The public voice library (anyone's shared voices, none of our customers' data).
        Operation(GET, "/v1/shared-voices", FREE),
    ),
    auth_header="xi-api-key",
    refused=(Refused(GET, "/v2/voices", _VOICES_OF_OUR_ACCOUNT),),
    timeout_seconds=300,
)

# Fish Audio: $15 per million bytes of text (about characters), transcription $0.36 an hour read from the answer's
# `duration` (held: an hour). A voice model is a free helper, as ElevenLabs' clone: Fish bills the speech made with it.
FISHAUDIO = Partner(
    "fishaudio",
    "https://api.fish.audio",
    Auth.BEARER,
    (
        Operation(POST, "/v1/tts", SYNC, Characters(15_000)),
        Operation(POST, "/v1/asr", SYNC, ReportedSeconds(100, "duration", hold_seconds=3600)),
        Operation(POST, "/model", FREE),
    ),
    timeout_seconds=300,
)

# -- avatars, lip-sync, compositing jobs ------------------------------------------------------------------------------


def _job(path: str, price: PriceRule, job_id: str, status: str, name: str = "id", **poll: Any) -> tuple[Operation, ...]:
    """A job submitted at `path` and polled at `path/{name}` (`poll`: the poll's status words)."""
    return (
        Operation(POST, path, SUBMIT, price, job_id=job_id, status=status, poll=path + "/{id}"),
        Operation(GET, f"{path}/{{{name}}}", POLL, job_id=f"path:{name}", status=status, **poll),
    )


# HeyGen (our figures): $0.05 a second of avatar video, read from the finished video's `duration` (held: a minute,
# or the cinematic avatar's requested 4-15 s); $0.05 a second of translated video, one target language a call (held:
# five minutes); an avatar $0.25 when HeyGen accepts it; speech $0.10 per 1,000 characters.
_AVATAR_VIDEO = ReportedSeconds(usd("0.05"), "data.duration", hold_seconds=60, count="duration")
_TRANSLATION_ID = "data.video_translation_ids.0"
_TRANSLATION = OnePerCall(ReportedSeconds(usd("0.05"), "data.duration", hold_seconds=300), "output_languages")
HEYGEN = Partner(
    "heygen",
    "https://api.heygen.com",
    Auth.HEADER,
    (
        *_job("/v3/videos", _AVATAR_VIDEO, "data.video_id", "data.status", "video_id"),
        *_job("/v3/video-translations", _TRANSLATION, _TRANSLATION_ID, "data.status", "video_translation_id"),
        # Training goes on at HeyGen; the look is read (a helper) until it is ready, then used as a video's avatar.
        Operation(POST, "/v3/avatars", SYNC, Fixed(usd("0.25"))),
        Operation(GET, "/v3/avatars/looks/{look_id}", FREE),
        Operation(POST, "/v3/voices/speech", SYNC, Characters(usd("0.1"))),
    ),
    auth_header="X-Api-Key",
)

# Sync Labs: $0.08 a second of lip-synced output (our figure), read from `outputDuration` (held: two minutes).
_LIPSYNC = ReportedSeconds(usd("0.08"), "outputDuration", hold_seconds=120)
SYNCLABS = Partner(
    "synclabs",
    "https://api.sync.so",
    Auth.HEADER,
    _job("/v2/generate", _LIPSYNC, "id", "status", failed=frozenset({"rejected"})),
    auth_header="x-api-key",
)

# Beeble SwitchX: $0.10 an image, $1.00 a video (our figures).
_SWITCHX = PerUnit(usd("1"), count="", by="generation_type", table={"image": usd("0.1")})
BEEBLE = Partner(
    "beeble",
    "https://api.beeble.ai",
    Auth.BEARER,
    (
        *_job("/v1/switchx/generations", _SWITCHX, "id", "status", "job_id"),
        Operation(POST, "/v1/uploads", FREE),  # a presigned upload URL for the caller's own file
    ),
)

TEXT_AUDIO: tuple[Partner, ...] = (
    ANTHROPIC,
    OPENROUTER,
    XAI,
    META,
    QWEN,
    QUIVER,
    COMFY_CLOUD,
    ELEVENLABS,
    FISHAUDIO,
    HEYGEN,
    SYNCLABS,
    BEEBLE,
)
