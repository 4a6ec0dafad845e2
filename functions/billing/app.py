"""The billing HTTP surface: each API area is its own package with the same files as the registry's (routes,
handlers, usecases, schemas, serializers, openapi.yaml); one function (`billing`) serves them all behind the input
guard, with `/billing/health` and `/billing/openapi`."""

from __future__ import annotations

import importlib
from dataclasses import replace
from functools import cache

from shared.bootstrap import get_container
from shared.http.guard import guarded
from shared.http.router import Route, Router

AREAS = ("customers", "keys", "payments", "webhooks", "usage", "storage")


def routes(area: str) -> list[Route]:
    module = importlib.import_module(f"functions.billing.{area}.routes")
    area_routes: list[Route] = module.ROUTES
    return area_routes


def all_routes() -> list[Route]:
    from functions.billing.common import meta

    return [*meta.ROUTES, *(route for area in AREAS for route in routes(area))]


def _cors_origins() -> list[str]:
    return get_container().settings.cors_origin_list


@cache
def router() -> Router:
    return Router(
        [replace(r, handler=guarded(r.handler)) for r in all_routes()], deps=get_container, cors_origins=_cors_origins
    )
