"""usage routes."""

from __future__ import annotations

from shared.http.router import Route

ROUTES: list[Route] = []
