"""Routes of this area; filled in by its issue."""

from __future__ import annotations

from shared.http.router import Route

ROUTES: list[Route] = []
