"""Fake partners of the text, speech and audio group (answers in `text_audio_answers`): the routes they answer, the
credential each expects and how it is sent (`HEADER_AUTH`: a header of its own; `AUTH_CHECKS`: a check of its own;
else a bearer)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Request

from local.fake_partners import answers as a
from local.fake_partners import text_audio_answers as t

GET, POST = "GET", "POST"
_XAI_VIDEO = r"/v1/videos/(generations|edits|extensions)"
_ELEVEN_AUDIO = r"/v1/(text-to-speech/[^/]+|speech-to-speech/[^/]+|sound-generation|text-to-dialogue|audio-isolation)"

TABLE: list[tuple[str, str, str, a.Handler]] = [
    ("anthropic", POST, r"/v1/messages", t.anthropic_messages),
    ("openrouter", POST, r"/api/v1/chat/completions", t.openrouter_chat),
    ("xai", POST, r"/v1/images/(generations|edits)", t.xai_image),
    ("xai", POST, _XAI_VIDEO, t.submit("xai", "video", t.xai_submitted)),
    ("xai", GET, r"/v1/videos/[^/]+", t.poll(t.xai_video)),
    ("meta", POST, r"/v1/images/(generations|edits)", t.meta_images),
    ("qwen", POST, r"/api/v1/services/aigc/multimodal-generation/generation", t.qwen_images),
    ("quiver", POST, r"/v1/svgs/(generations|vectorizations)", t.quiver_svgs),
    ("comfy-cloud", POST, r"/workflow/generate", t.submit("comfy-cloud", "image", t.comfy_submitted)),
    ("comfy-cloud", GET, r"/workflow/tasks/[^/]+", t.poll(t.comfy_task)),
    ("comfy-cloud", POST, r"/workflow/tasks/[^/]+/cancel", t.comfy_cancel),
    ("elevenlabs", POST, _ELEVEN_AUDIO, t.audio),
    ("elevenlabs", POST, r"/v1/speech-to-text", t.elevenlabs_transcript),
    ("elevenlabs", POST, r"/v1/voices/add", t.elevenlabs_voice),
    ("elevenlabs", GET, r"/v1/shared-voices", t.elevenlabs_shared),
    ("fishaudio", POST, r"/v1/tts", t.audio),
    ("fishaudio", POST, r"/v1/asr", t.fish_transcript),
    ("fishaudio", POST, r"/model", t.fish_model),
    ("heygen", POST, r"/v3/videos", t.submit("heygen", "video", t.heygen_video_submitted)),
    ("heygen", GET, r"/v3/videos/[^/]+", t.poll(t.heygen_detail)),
    (
        "heygen",
        POST,
        r"/v3/video-translations",
        t.submit("heygen-translation", "video", t.heygen_translation_submitted),
    ),
    ("heygen", GET, r"/v3/video-translations/[^/]+", t.poll(t.heygen_detail)),
    ("heygen", POST, r"/v3/avatars", t.heygen_avatar),
    ("heygen", GET, r"/v3/avatars/looks/[^/]+", t.heygen_look),
    ("heygen", POST, r"/v3/voices/speech", t.heygen_speech),
    ("synclabs", POST, r"/v2/generate", t.submit("synclabs", "video", t.synclabs_submitted)),
    ("synclabs", GET, r"/v2/generate/[^/]+", t.poll(t.synclabs_generation)),
    ("beeble", POST, r"/v1/switchx/generations", t.submit("beeble", "image", t.beeble_submitted)),
    ("beeble", GET, r"/v1/switchx/generations/[^/]+", t.poll(t.beeble_job)),
    ("beeble", POST, r"/v1/uploads", t.beeble_upload),
]
CREDENTIALS: dict[str, str] = {
    "anthropic": "sk-ant-fake-anthropic",
    "openrouter": "sk-or-fake-openrouter",
    "xai": "xai-fake-key",
    "meta": "fake-meta-llama-key",
    "qwen": "sk-fake-dashscope",
    "quiver": "fake-quiver-key",
    "comfy-cloud": "fake-comfy-cloud-key",
    "elevenlabs": "fake-elevenlabs-key",
    "fishaudio": "fake-fishaudio-key",
    "heygen": "fake-heygen-key",
    "synclabs": "fake-synclabs-key",
    "beeble": "fake-beeble-key",
}
HEADER_AUTH: dict[str, str] = {"elevenlabs": "xi-api-key", "heygen": "X-Api-Key", "synclabs": "x-api-key"}


def _anthropic(req: Request, expected: str) -> bool:
    """Anthropic takes its key in `x-api-key` and refuses a call without its API version."""
    return req.headers.get("x-api-key") == expected and req.headers.get("anthropic-version") == "2023-06-01"


AUTH_CHECKS: dict[str, Callable[[Request, str], bool]] = {"anthropic": _anthropic}
