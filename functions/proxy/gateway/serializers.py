"""A gateway answer on the wire: bytes as they are, or a stream passed on piece by piece (never buffered whole)."""

from __future__ import annotations

from flask import Response

from functions.proxy.gateway.usecases.answers import Answer


def response(answer: Answer) -> Response:
    reply = Response(answer.body, status=answer.status, direct_passthrough=answer.streamed)
    reply.headers.remove("Content-Type")
    for name, value in answer.headers.items():
        reply.headers[name] = value
    if answer.streamed:
        reply.headers["X-Accel-Buffering"] = "no"  # proxies in front must not hold the pieces back
    return reply
