"""What callers send to the keys area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from functions.billing.common.schemas import Body


class CreateKeyIn(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    # Ours: an optional expiry (RFC 3339); API_KEY_DEFAULT_TTL_DAYS applies when absent.
    expires_at: datetime | None = None


class VerifyKeyIn(Body):
    api_key: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    include_customer_keys: bool = False


class SyncDeletionIn(Body):
    event: Literal["delete"]
    key_hash: Annotated[str, Field(pattern=r"^[A-Fa-f0-9]{64}$")]
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
