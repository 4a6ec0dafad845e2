"""RateLimits: filled in by its issue."""

from __future__ import annotations

from sqlalchemy.orm import Session


class RateLimits:
    def __init__(self, session: Session) -> None:
        self.s = session
