"""Serving public reads from the instance's read cache (shared/read_cache.py).

Only GET answers that do not depend on the caller go through here, and only 200s are stored: an error is computed
again each time. Each hit builds a fresh Response, since the router adds CORS headers to whatever it returns."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Request, Response

from shared.bootstrap import Container
from shared.read_cache import CachedAnswer, ReadCache

# The answer and its subject: what a hit must still act on (an install counts a download of that node).
Computed = tuple[Response, str]


def serve(
    request: Request,
    cache: ReadCache,
    compute: Callable[[], Computed],
    on_hit: Callable[[CachedAnswer], None] | None = None,
) -> Response:
    if not cache.enabled or cache.tag() is None:  # off, or the epoch cannot be read: answer from the database
        return compute()[0]
    key = f"{request.path}?{request.query_string.decode('latin-1')}"
    if (hit := cache.get(key)) is None:
        with cache.filling(key) as leading:
            if leading or (hit := cache.get(key)) is None:
                tag = cache.tag()  # as of now, before computing: a change from here on makes the answer stale
                response, subject = compute()
                if tag is not None and response.status_code == 200:
                    cache.put(key, tag, response.get_data(), response.status_code, response.mimetype or "", subject)
                return response
    if on_hit is not None:
        on_hit(hit)
    response = Response(hit.body, status=hit.status, mimetype=hit.mimetype)
    response.headers["X-Cache"] = "hit"
    return response


def cached_read(handler: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(handler)
    def cached(request: Request, c: Container, **kwargs: str) -> Response:
        return serve(request, c.read_cache, lambda: (handler(request, c, **kwargs), ""))

    return cached
