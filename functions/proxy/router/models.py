"""The Comfy Router's catalog: each model a canonical `{provider}/{model}` id run through one catalog operation of
the gateway, with the request field that names the model upstream (set from the path), and the input schema it is
validated against before anything is held or sent (None: not authored yet, any JSON object). Output schemas describe
what the partner sends; the Router never checks them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SEGMENT = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
PROVIDER_MAX, MODEL_MAX = 64, 128


@dataclass(frozen=True)
class RouterModel:
    provider: str
    model: str
    partner: str  # the gateway's partner
    path: str  # the catalog operation's path under /proxy/<partner>
    model_field: str = ""  # the body field naming the model upstream ("" when the path names it)
    native: str = ""  # that field's value upstream, where it differs from `model`
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    charges_on_policy_rejection: str = "no"  # a partner's refusal releases the hold: the gateway never charges it
    summary: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def upstream_name(self) -> str:
        return self.native or self.model


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": True}


PROMPT = {"type": "string", "minLength": 1, "maxLength": 32000}
IMAGES_OUT = {
    "type": "object",
    "properties": {
        "created": {"type": "integer"},
        "data": {
            "type": "array",
            "items": {"type": "object", "properties": {"url": {"type": "string"}, "b64_json": {"type": "string"}}},
        },
        "usage": {"type": "object"},
    },
}
GPT_IMAGE_IN = _object(
    ["prompt"],
    {
        "prompt": PROMPT,
        "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "size": {"enum": ["auto", "1024x1024", "1536x1024", "1024x1536"]},
        "quality": {"enum": ["auto", "low", "medium", "high"]},
        "background": {"enum": ["auto", "transparent", "opaque"]},
    },
)
IDEOGRAM_IN = _object(
    ["prompt"],
    {
        "prompt": PROMPT,
        "rendering_speed": {"enum": ["TURBO", "DEFAULT", "QUALITY"]},
        "num_images": {"type": "integer", "minimum": 1, "maximum": 8},
        "aspect_ratio": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
    },
)
FLUX_IN = _object(
    ["prompt"],
    {
        "prompt": PROMPT,
        "width": {"type": "integer", "minimum": 256, "maximum": 1440, "multipleOf": 32},
        "height": {"type": "integer", "minimum": 256, "maximum": 1440, "multipleOf": 32},
        "seed": {"type": "integer"},
        "output_format": {"enum": ["jpeg", "png"]},
    },
)
KLING_IN = _object(
    ["prompt"],
    {"prompt": {"type": "string", "minLength": 1, "maxLength": 2500}, "duration": {"enum": ["5", "10"]}},
)

MODELS: tuple[RouterModel, ...] = (
    RouterModel(
        "openai",
        "gpt-image-1",
        "openai",
        "/images/generations",
        "model",
        input_schema=GPT_IMAGE_IN,
        output_schema=IMAGES_OUT,
        summary="OpenAI GPT Image 1: text to image.",
    ),
    RouterModel(
        "ideogram",
        "ideogram-v3",
        "ideogram",
        "/ideogram-v3/generate",
        input_schema=IDEOGRAM_IN,
        summary="Ideogram 3.0: text to image.",
    ),
    RouterModel("recraft", "recraftv3", "recraft", "/image_generation", "model", summary="Recraft V3: text to image."),
    RouterModel(
        "bfl", "flux-pro-1.1", "bfl", "/flux-pro-1.1/generate", input_schema=FLUX_IN, summary="FLUX 1.1 [pro]."
    ),
    RouterModel("bfl", "flux-kontext-pro", "bfl", "/flux-kontext-pro/generate", summary="FLUX.1 Kontext [pro]."),
    RouterModel("bfl", "flux-2-pro", "bfl", "/flux-2-pro/generate", summary="FLUX.2 [pro]."),
    RouterModel(
        "kling",
        "kling-v2-master",
        "kling",
        "/v1/videos/text2video",
        "model_name",
        input_schema=KLING_IN,
        summary="Kling 2.0 Master: text to video.",
    ),
    RouterModel("luma", "ray-2", "luma", "/generations", "model", summary="Luma Ray 2: text to video."),
    RouterModel(
        "runway", "gen4-turbo", "runway", "/image_to_video", "model", "gen4_turbo", summary="Runway Gen-4 Turbo."
    ),
    RouterModel(
        "xai",
        "grok-imagine-image",
        "xai",
        "/v1/images/generations",
        "model",
        output_schema=IMAGES_OUT,
        summary="xAI Grok Imagine: text to image.",
    ),
    RouterModel(
        "google",
        "gemini-2.5-flash-image",
        "vertexai",
        "/gemini/gemini-2.5-flash-image",
        summary="Google Gemini 2.5 Flash Image (nano-banana): the model is named by the path upstream.",
    ),
    RouterModel(
        "minimax",
        "hailuo-02",
        "minimax",
        "/video_generation",
        "model",
        "MiniMax-Hailuo-02",
        summary="MiniMax Hailuo 02: text to video.",
    ),
)
BY_ID: dict[str, RouterModel] = {m.id: m for m in MODELS}


def valid_segment(value: str, most: int) -> bool:
    return len(value) <= most and SEGMENT.fullmatch(value) is not None
