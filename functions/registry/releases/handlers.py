"""GET /releases (public) and POST /releases (GitHub's release webhook, authenticated by its signature alone)."""

from __future__ import annotations

from flask import Request, Response

from functions.registry.releases import schemas, serializers, usecases
from shared.bootstrap import Container
from shared.http.responses import json_response

# The feed changes a few times a month: shared caches may keep it a while, and serve it stale while they refetch.
FEED_CACHE_CONTROL = "public, max-age=60, s-maxage=300, stale-while-revalidate=600"


def release_notes(request: Request, c: Container) -> Response:
    query = schemas.feed_query(request.args)
    rows = usecases.feed(c.uow(), query.project, query.current_version)
    response = json_response([serializers.note(r) for r in rows])
    response.headers["Cache-Control"] = FEED_CACHE_CONTROL
    return response


def release_webhook(request: Request, c: Container) -> Response:
    delivery = schemas.delivery(request)
    usecases.verify_signature(c.settings.github_webhook_secret, delivery.raw, delivery.signature)
    if delivery.event == "ping":
        return json_response(serializers.applied(usecases.Applied("ignored")))
    applied = usecases.apply_release(c.uow(), c.settings.release_repository_map, schemas.release(delivery.raw))
    return json_response(serializers.applied(applied))
