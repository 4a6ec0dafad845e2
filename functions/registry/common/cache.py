"""Serving public reads from the instance's read cache (shared/read_cache.py), with HTTP validators for the CDN.

Only GET answers that do not depend on the caller go through here, and only 200s are stored: an error is computed
again each time. Each hit builds a fresh Response, since the router adds CORS headers to whatever it returns.

Every 200 here carries a strong `ETag` (a digest of its bytes, the very bytes the read cache holds) and
`Cache-Control: public, max-age=0, s-maxage=.., stale-while-revalidate=..`, so the CDN keeps it for a short while
and browsers revalidate; a request whose `If-None-Match` names that tag (weak comparison, RFC 9110 13.1.2) gets a
304 without a body. Answers that are not public (an install counts a download, whoever asks) are `private`."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from flask import Request, Response

from shared.bootstrap import Container
from shared.read_cache import CachedAnswer, ReadCache

# The answer and its subject: what a hit must still act on (an install counts a download of that node).
Computed = tuple[Response, str]
PRIVATE = "private, no-store"


def etag(body: bytes) -> str:
    """A strong entity tag for these bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str) -> bool:
    """Whether `If-None-Match` names `tag`: `*`, or any listed tag equal to it once `W/` is dropped (the weak
    comparison RFC 9110 asks of If-None-Match)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(item.strip().removeprefix("W/") == opaque for item in header.split(","))


def public_control(c: Container) -> str:
    s = c.settings
    return f"public, max-age=0, s-maxage={s.cdn_max_age_seconds}, stale-while-revalidate={s.cdn_stale_seconds}"


def validated(request: Request, response: Response, control: str, tag: str | None = None) -> Response:
    """A 200 made cacheable: its ETag and Cache-Control, or a bodiless 304 when the client holds the same bytes."""
    if response.status_code != 200:
        response.headers.setdefault("Cache-Control", PRIVATE)
        return response
    tag = tag or etag(response.get_data())
    if not_modified(request, tag):
        response = Response(status=304)
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = control
    return response


def public_read(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A caller-independent GET that the instance does not cache: validators and CDN caching only."""

    @functools.wraps(handler)
    def read(request: Request, c: Container, **kwargs: str) -> Response:
        return validated(request, handler(request, c, **kwargs), public_control(c))

    return read


def serve(
    request: Request,
    c: Container,
    compute: Callable[[], Computed],
    on_hit: Callable[[CachedAnswer], None] | None = None,
    *,
    public: bool = True,
) -> Response:
    control = public_control(c) if public else PRIVATE
    response, tag = _serve(request, c.read_cache, compute, on_hit)
    return validated(request, response, control, tag) if public else _private(response)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = PRIVATE
    return response


def _serve(
    request: Request,
    cache: ReadCache,
    compute: Callable[[], Computed],
    on_hit: Callable[[CachedAnswer], None] | None,
) -> tuple[Response, str | None]:
    """The answer, and its entity tag when the read cache holds it."""
    if not cache.enabled or cache.tag() is None:  # off, or the epoch cannot be read: answer from the database
        return compute()[0], None
    key = f"{request.path}?{request.query_string.decode('latin-1')}"
    if (hit := cache.get(key)) is None:
        with cache.filling(key) as leading:
            if leading or (hit := cache.get(key)) is None:
                tag = cache.tag()  # as of now, before computing: a change from here on makes the answer stale
                response, subject = compute()
                if tag is None or response.status_code != 200:
                    return response, None
                body = response.get_data()
                entity = etag(body)
                cache.put(key, tag, body, response.status_code, response.mimetype or "", subject, entity)
                return response, entity
    if on_hit is not None:
        on_hit(hit)
    response = Response(hit.body, status=hit.status, mimetype=hit.mimetype)
    response.headers["X-Cache"] = "hit"
    return response, hit.etag


def cached_read(handler: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(handler)
    def cached(request: Request, c: Container, **kwargs: str) -> Response:
        return serve(request, c, lambda: (handler(request, c, **kwargs), ""))

    return cached
