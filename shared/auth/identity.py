"""The caller as the use cases see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Identity:
    uid: str
    email: str | None = None
    name: str | None = None
    # The Firebase custom claim `admin`; `users.is_admin` is the other way to be one.
    admin_claim: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
