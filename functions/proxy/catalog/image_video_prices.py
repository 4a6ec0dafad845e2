"""Price rules of the image and video partners (`image_video`) that the shared rules of `prices` cannot express: a
rate by model x resolution (LTX, Seedance), Seedance's settings written inline in its prompt, Reve's credits read
from its response header, a count the partner reports (Seedream images, seconds of audio or video). All micro-USD
and all `PriceRule`s of `model`."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from functions.proxy.catalog.model import PriceRule
from functions.proxy.catalog.prices import dig, number, usd

REVE_CREDITS_PER_USD = Decimal("524.48")  # what ComfyUI's Reve node divides `x-reve-credits-used` by


def _longest(key: str, names: Mapping[str, Any], default: str) -> str:
    """The longest table name contained in `key` (`seedance-1-0-pro-fast-251015` is `seedance-1-0-pro-fast`)."""
    return max((name for name in names if name in key), key=len, default=default)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        found = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() and found >= 0 else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


@dataclass(frozen=True)
class LtxVideo:
    """LTX: a rate a second by model (pro, else fast) and the output's long side, times the requested seconds."""

    rates: Mapping[str, Mapping[int, int]]  # "pro"/"fast" -> long side in pixels -> micro-USD a second
    default_seconds: int = 8
    most: int = 20

    def estimate(self, fields: Mapping[str, Any]) -> int:
        model = "fast" if "fast" in str(fields.get("model") or "").lower() else "pro"
        sides = [int(s) for s in re.findall(r"\d+", str(fields.get("resolution") or "1920x1080"))] or [1920]
        by_side = self.rates[model]
        side = min((s for s in by_side if s >= max(sides)), default=max(by_side))  # the tier that holds it
        return by_side[side] * number(fields.get("duration"), self.default_seconds, most=self.most)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


# Seedance settings a prompt may carry inline (`a fox --resolution 1080p --duration 10`), as `comfy generate` sends.
_INLINE = re.compile(r"--(resolution|rs|duration|dur)\s+(\S+)")


def _inline(fields: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in fields.get("content") or []:
        text = part.get("text") if isinstance(part, dict) else None
        for name, value in _INLINE.findall(text if isinstance(text, str) else ""):
            found["resolution" if name in ("resolution", "rs") else "duration"] = value
    return found


@dataclass(frozen=True)
class SeedanceVideo:
    """Seedance: a rate a second by model x resolution (the request's field, else the prompt's inline flag, else the
    model's default), times the seconds; `-1` (the model picks) holds the model's longest clip. Seedance 1.5 pro
    costs twice as much with sound, which it makes unless asked not to."""

    rates: Mapping[str, Mapping[str, int]]  # model -> resolution -> micro-USD a second
    default_model: str
    default_resolution: Mapping[str, str]  # model -> its default resolution
    longest: Mapping[str, int]  # model -> its longest clip, in seconds
    with_sound_doubles: frozenset[str] = frozenset()
    default_seconds: int = 5

    def estimate(self, fields: Mapping[str, Any]) -> int:
        inline = _inline(fields)
        model = _longest(str(fields.get("model") or "").lower(), self.rates, self.default_model)
        resolution = str(fields.get("resolution") or inline.get("resolution") or "").lower()
        by_resolution = self.rates[model]
        if resolution not in by_resolution:
            resolution = self.default_resolution.get(model, max(by_resolution, key=lambda r: by_resolution[r]))
        asked = fields.get("duration", inline.get("duration"))
        auto = str(asked).strip() == "-1"
        seconds = self.longest[model] if auto else number(asked, self.default_seconds, most=self.longest[model])
        sound = 2 if model in self.with_sound_doubles and fields.get("generate_audio") is not False else 1
        return by_resolution[resolution] * seconds * sound

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class SeedreamImages:
    """Seedream: a price an image by model; a sequential request (`sequential_image_generation: auto`) holds for its
    `max_images` and pays for the images the partner reports it made."""

    table: Mapping[str, int]
    default: int
    most: int = 15

    def unit(self, model: Any) -> int:
        name = _longest(str(model or "").lower(), self.table, "")
        return self.table[name] if name else self.default

    def estimate(self, fields: Mapping[str, Any]) -> int:
        count = 1
        if str(fields.get("sequential_image_generation") or "").lower() == "auto":
            count = number(dig(fields, "sequential_image_generation_options.max_images"), self.most, most=self.most)
        return self.unit(fields.get("model")) * count

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        made = dig(answer, "usage.generated_images")
        if not isinstance(made, int) or isinstance(made, bool):
            data = dig(answer, "data")
            made = len(data) if isinstance(data, list) else None
        return None if made is None else self.unit(dig(answer, "model")) * max(0, made)


@dataclass(frozen=True)
class ReveCredits:
    """Reve reports what a call cost in its credits (`x-reve-credits-used` on an image, `credits_used` in JSON); the
    hold is the list price (by fast model and upscale factor, times `test_time_scaling`) plus `margin_percent`."""

    base: int
    fast: int
    upscaled: Mapping[int, int] = field(default_factory=dict)  # upscale factor -> list price with it
    margin_percent: int = 50

    def estimate(self, fields: Mapping[str, Any]) -> int:
        price = self.fast if "fast" in str(fields.get("version") or "").lower() else self.base
        for step in fields.get("postprocessing") or []:
            if price != self.fast and isinstance(step, dict) and step.get("process") == "upscale":
                price = max(price, self.upscaled.get(number(step.get("upscale_factor"), 2, most=4), price))
        scaling = number(fields.get("test_time_scaling"), 1, most=5)
        return price * scaling * (100 + self.margin_percent) // 100

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        used = _decimal(_header(headers, "x-reve-credits-used"))
        if used is None:
            used = _decimal(dig(answer, "credits_used"))
        return None if used is None else int(used * 1_000_000 / REVE_CREDITS_PER_USD)


@dataclass(frozen=True)
class KreaImage:
    """Krea 2: a price an image, higher with style references and higher still with a moodboard."""

    text: int
    style: int
    moodboard: int

    def estimate(self, fields: Mapping[str, Any]) -> int:
        if fields.get("moodboards"):
            return self.moodboard
        return self.style if fields.get("image_style_references") else self.text

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class AnswerSeconds:
    """A rate a second of the result, whose length the partner's answer reports at `field` (Seed Audio's
    `duration`, MediaKit's `result.duration`); the hold covers `hold_seconds`."""

    micros_per_second: int
    field: str
    hold_seconds: int

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.micros_per_second * self.hold_seconds

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        seconds = _decimal(dig(answer, self.field))
        return None if seconds is None else self.micros_per_second * max(1, math.ceil(seconds))


@dataclass(frozen=True)
class ByField:
    """One of several rules, by the request's `field` (the longest case name its value starts with)."""

    field: str
    cases: Mapping[str, PriceRule]
    default: PriceRule

    def rule(self, fields: Mapping[str, Any]) -> PriceRule:
        value = str(dig(fields, self.field) or "").lower()
        name = max((n for n in self.cases if value.startswith(n)), key=len, default=None)
        return self.cases[name] if name is not None else self.default

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.rule(fields).estimate(fields)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


# Seedance by model x resolution, micro-USD a second. Seedance 1.x: ComfyUI's badge (its price of a 10 s clip, the
# top of its range, over 10); 2.0: the badge's tokens a second (10044 / 21600 / 48800) at $0.01001 per thousand,
# $0.008008 for Fast. Our figures: 2.0 Mini as 2.0 Fast, 2.5 as 2.0 and its 4k at four times 1080p.
_S2 = {"480p": usd("0.10054"), "720p": usd("0.21622"), "1080p": usd("0.48849"), "4k": usd("1.95396")}
_S2_FAST = {"480p": usd("0.08043"), "720p": usd("0.17297"), "1080p": usd("0.39079")}
_SEEDANCE_RATES = {
    "seedance-1-5-pro": {"480p": usd("0.012"), "720p": usd("0.026"), "1080p": usd("0.059")},
    "seedance-1-0-pro": {"480p": usd("0.024"), "720p": usd("0.056"), "1080p": usd("0.122")},
    "seedance-1-0-pro-fast": {"480p": usd("0.010"), "720p": usd("0.023"), "1080p": usd("0.049")},
    "seedance-1-0-lite": {"480p": usd("0.018"), "720p": usd("0.041"), "1080p": usd("0.088")},
    "seedance-2-0": _S2,
    "seedance-2-0-fast": _S2_FAST,
    "seedance-2-0-mini": _S2_FAST,
    "seedance-2-5": _S2,
}
SEEDANCE = SeedanceVideo(
    rates=_SEEDANCE_RATES,
    default_model="seedance-1-0-pro",  # `comfy generate seedance`'s default
    # The partner's defaults: 1080p for 1.0 pro (and pro fast), 720p for the others.
    default_resolution={m: "1080p" if m.startswith("seedance-1-0-pro") else "720p" for m in _SEEDANCE_RATES},
    longest={m: 30 if m == "seedance-2-5" else 15 if m.startswith("seedance-2") else 12 for m in _SEEDANCE_RATES},
    with_sound_doubles=frozenset({"seedance-1-5-pro"}),
)
