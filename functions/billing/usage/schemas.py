"""What usage requests carry: the dashboard's type and colours, the series' query, and a tracked usage event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator
from werkzeug.datastructures import MultiDict

from functions.billing.common.schemas import Body
from functions.billing.usage.usecases import GRANULARITIES, GROUPS, SeriesQuery, Tracked
from shared.errors import InvalidInput
from shared.http import params

ColorName = Literal[
    "Gray_dark",
    "Gray_medium",
    "Gray_light",
    "Gray_extralight",
    "White",
    "Primary_medium",
    "Primary_light",
    "UsageLine_0",
    "UsageLine_1",
    "UsageLine_2",
    "UsageLine_3",
    "UsageLine_4",
    "UsageLine_5",
    "UsageLine_6",
    "UsageLine_7",
    "UsageLine_8",
    "UsageLine_9",
    "Primary_green",
    "Primary_red",
    "Progress_bar",
    "Progress_bar_background",
]
MAX_PARAMS = 64
MAX_PARAMS_BYTES = 8192
MAX_AMOUNT = 10**12  # one tracked charge: at most a million USD
GROUP_DETAILS = ("model", "endpoint", "product")  # params that become the charge's grouping details


class ColorOverride(Body):
    name: ColorName
    value: Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class DashboardIn(Body):
    dashboard_type: Literal["invoices", "usage", "credits", "commits_and_credits"] = "usage"
    color_overrides: Annotated[list[ColorOverride], Field(max_length=32)] = Field(default_factory=list)

    def colors(self) -> dict[str, str]:
        return {c.name: c.value for c in self.color_overrides}


class TrackIn(Body):
    """TrackCustomerUsage's body. `params.amount_micros` (a positive whole number, or a string of digits) is what
    the ledger charges; `params.model`, `endpoint` and `product` group it in the usage series."""

    transaction_id: uuid.UUID
    params: dict[str, Any]
    timestamp: datetime | None = None

    @field_validator("params")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_PARAMS or len(json.dumps(value, default=str)) > MAX_PARAMS_BYTES:
            raise ValueError(f"params takes at most {MAX_PARAMS} keys and {MAX_PARAMS_BYTES} bytes")
        return value

    def tracked(self) -> Tracked:
        at = self.timestamp
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        details = {k: str(self.params[k])[:256] for k in GROUP_DETAILS if isinstance(self.params.get(k), str)}
        return Tracked(str(self.transaction_id), _amount(self.params.get("amount_micros")), at, details)


def _amount(raw: object) -> int:
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 15:
        raw = int(raw)
    if type(raw) is not int or not 0 < raw <= MAX_AMOUNT:
        raise InvalidInput(
            "params.amount_micros is required: the charge in micro-USD, a positive whole number.",
            code="invalid_amount",
        )
    return raw


def series_query(args: MultiDict[str, str]) -> SeriesQuery:
    group_by = args.get("group_by") or "model"
    granularity = args.get("granularity") or "month"
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}", code="invalid_group_by")
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}", code="invalid_granularity")
    return SeriesQuery(
        group_by=group_by,
        granularity=granularity,
        starting_on=params.timestamp(args, "starting_on"),
        ending_before=params.timestamp(args, "ending_before"),
        months=params.integer(args, "months", 6, minimum=1, maximum=24, clamp=False),
    )
