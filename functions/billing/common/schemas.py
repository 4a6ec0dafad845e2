"""Request bodies every billing area shares: the base model (unknown fields ignored, as clients send more than the
spec names) and the page parameters."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
