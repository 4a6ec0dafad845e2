"""Request bodies of the limits endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)  # "5" or 5.0 is not a limit
    override: int | None  # required and non-null: clearing is DELETE (checked by the use case)


class TierIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tier: str
