"""The registry's HTTP surfaces: each API area is its own package with the same files (routes, handlers, usecases,
schemas, serializers, openapi.yaml), deployed as its own function (the entry points in main.py). This module builds
each area's router: its routes behind the input guard, plus `/health` and `/openapi`, with CORS from the settings."""

from __future__ import annotations

import importlib
from dataclasses import replace
from functools import cache

from shared.bootstrap import get_container
from shared.http.guard import guarded
from shared.http.router import Route, Router

# area -> the function that serves it (shared/routing.py names the same functions and their paths).
AREAS = {
    "reads": "registry",
    "publishing": "registry-publishing",
    "community": "registry-community",
    "moderation": "registry-moderation",
    "ci": "registry-ci",
    "comfy_nodes": "registry-comfy-nodes",
    "releases": "registry-releases",
}


def routes(area: str) -> list[Route]:
    module = importlib.import_module(f"functions.registry.{area}.routes")
    area_routes: list[Route] = module.ROUTES
    return area_routes


def all_routes() -> list[Route]:
    return [route for area in AREAS for route in routes(area)]


def _cors_origins() -> list[str]:
    return get_container().settings.cors_origin_list


@cache
def router(area: str) -> Router:
    """Every handler behind the same input guard (no NUL characters: PostgreSQL text cannot hold them)."""
    from functions.registry.common import meta

    served = [*meta.ROUTES, *routes(area)]
    return Router(
        [replace(r, handler=guarded(r.handler)) for r in served], deps=get_container, cors_origins=_cors_origins
    )
