"""Price rules, in integer micro-USD. The figures are the price badges of ComfyUI's own partner nodes (what the user is
shown before running one); where the partner reports its cost (Black Forest Labs' credits, OpenAI's tokens), that is
the price, capped at the hold. `usd()` turns a decimal string into micro-USD without a float."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from functions.proxy.catalog.model import PriceRule


def usd(amount: str) -> int:
    return int(Decimal(amount) * 1_000_000)


def number(value: Any, default: int, *, most: int) -> int:
    """A count or a duration from a request field ("5", "5s", 10, 8.0), within 1..most; `default` when absent."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return default
        whole = int(value)
    else:
        found = re.match(r"\s*(\d+)", str(value))
        if not found:
            return default
        whole = int(found.group(1))
    return max(1, min(whole, most))


def dig(answer: Any, path: str) -> Any:
    """`a.b.0.c` in a decoded JSON answer; None where any step is missing."""
    if not path:
        return None
    for step in path.split("."):
        if isinstance(answer, Mapping):
            answer = answer.get(step)
        elif isinstance(answer, list) and step.isdigit() and int(step) < len(answer):
            answer = answer[int(step)]
        else:
            return None
    return answer


@dataclass(frozen=True)
class Fixed:
    micros: int

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.micros

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class PerUnit:
    """`micros` (by `by` field's value where `table` names it) times a count field, e.g. images x `n`."""

    micros: int
    count: str = "n"
    most: int = 10
    by: str = ""
    table: Mapping[str, int] = field(default_factory=dict)

    def unit(self, fields: Mapping[str, Any]) -> int:
        key = str(dig(fields, self.by) or "").lower() if self.by else ""
        # The longest name the value starts with: a dated snapshot (`sora-2-pro-2025-10-06`) prices as its model.
        found = max((name for name in self.table if key.startswith(name)), key=len, default=None)
        return self.table[found] if found is not None else self.micros

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.unit(fields) * number(dig(fields, self.count), 1, most=self.most)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class PerSecond(PerUnit):
    """`micros` a second of output (by model or quality where `table` names it), times the requested duration."""

    count: str = "duration"
    default_seconds: int = 5
    most: int = 60

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.unit(fields) * number(dig(fields, self.count), self.default_seconds, most=self.most)


@dataclass(frozen=True)
class Tokens:
    """Metered by the partner's token counts (`usage`), at most `hold` (what is set aside before the call)."""

    hold: int  # for one output (one image)
    input_per_token: int  # micro-USD
    output_per_token: int
    input_field: str = "usage.input_tokens"
    output_field: str = "usage.output_tokens"
    count: str = ""  # a request field multiplying the hold (images x `n`)
    most: int = 10

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.hold * (number(dig(fields, self.count), 1, most=self.most) if self.count else 1)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        tokens_in, tokens_out = dig(answer, self.input_field), dig(answer, self.output_field)
        if not isinstance(tokens_in, int) or not isinstance(tokens_out, int):
            return None
        return tokens_in * self.input_per_token + tokens_out * self.output_per_token


@dataclass(frozen=True)
class PartnerCredits:
    """The partner reports its cost in its own credits (`field` of the answer); `micros_per_credit` converts it. The
    hold is the list price plus `margin_percent`, since the reported cost may exceed the list price (a larger image);
    a cost above the hold is charged at the hold, and the ledger entry records what was asked."""

    base: PriceRule
    field: str
    micros_per_credit: int
    margin_percent: int = 50

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.base.estimate(fields) * (100 + self.margin_percent) // 100

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        credits = dig(answer, self.field)
        if isinstance(credits, bool) or not isinstance(credits, int | float | str):
            return None
        try:
            return int(Decimal(str(credits)) * self.micros_per_credit)
        except (ArithmeticError, ValueError):
            return None


@dataclass(frozen=True)
class Plus:
    """`base`, plus a surcharge for each option the request turns on (a field present and neither false nor empty):
    Tencent's PBR materials or custom face count."""

    base: PriceRule
    options: Mapping[str, int] = field(default_factory=dict)

    def estimate(self, fields: Mapping[str, Any]) -> int:
        extra = sum(micros for name, micros in self.options.items() if dig(fields, name) not in (None, False, "", 0))
        return self.base.estimate(fields) + extra

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class Times:
    """`base` once per output the request asks for (Veo's `parameters.sampleCount` videos, each priced by second)."""

    base: PriceRule
    count: str
    most: int = 4

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.base.estimate(fields) * number(dig(fields, self.count), 1, most=self.most)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None


@dataclass(frozen=True)
class Rates:
    """USD per million tokens, in micro-USD: input, text output (thoughts included), image output."""

    input: int
    output: int
    image: int = 0


@dataclass(frozen=True)
class ModelTokens:
    """Metered by the partner's token counts at the rates of the model its answer names (the longest table name the
    model starts with; `default` for one the table lacks), at most `hold`. Output tokens of the image modality (by the
    answer's per-modality list) are priced at the model's image rate. Gemini's `usageMetadata`; the Interactions
    API's `usage`."""

    hold: int
    table: Mapping[str, Rates]
    default: Rates
    model_field: str = "modelVersion"
    input_fields: tuple[str, ...] = ("usageMetadata.promptTokenCount",)
    output_fields: tuple[str, ...] = ("usageMetadata.candidatesTokenCount", "usageMetadata.thoughtsTokenCount")
    modalities: str = "usageMetadata.candidatesTokensDetails"  # a list of {modality, <count_key>}
    count_key: str = "tokenCount"

    def estimate(self, fields: Mapping[str, Any]) -> int:
        return self.hold

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        tokens_in, tokens_out = _total(answer, self.input_fields), _total(answer, self.output_fields)
        if tokens_in is None or tokens_out is None:
            return None
        model = str(dig(answer, self.model_field) or "").lower()
        found = max((name for name in self.table if model.startswith(name)), key=len, default=None)
        rates = self.table[found] if found is not None else self.default
        image = min(self._image_tokens(answer), tokens_out) if rates.image else 0
        cost = tokens_in * rates.input + (tokens_out - image) * rates.output + image * rates.image
        return -(-cost // 1_000_000)  # rounded up to the micro-USD

    def _image_tokens(self, answer: Any) -> int:
        found = dig(answer, self.modalities)
        if not isinstance(found, list):
            return 0
        counts = (
            item.get(self.count_key)
            for item in found
            if isinstance(item, Mapping) and str(item.get("modality", "")).lower() == "image"
        )
        return sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool))


def _total(answer: Any, paths: tuple[str, ...]) -> int | None:
    """The sum of the counts at `paths`; None when the first is missing (no usage reported at all)."""
    values = [dig(answer, path) for path in paths]
    if not isinstance(values[0], int) or isinstance(values[0], bool):
        return None
    return sum(v for v in values if isinstance(v, int) and not isinstance(v, bool))


@dataclass(frozen=True)
class ByFlag:
    """`on` unless the request sets the boolean `field` false (Veo's `generateAudio`, on by default), then `off`."""

    field: str
    on: PriceRule
    off: PriceRule

    def estimate(self, fields: Mapping[str, Any]) -> int:
        value = dig(fields, self.field)
        off = value is False or str(value).strip().lower() == "false"
        return (self.off if off else self.on).estimate(fields)

    def actual(self, answer: Any, headers: Mapping[str, str], estimate: int) -> int | None:
        return None
