"""The fake partners' server: checks each partner's credential the partner's way (401 otherwise), records what it
received, plays a failure when asked, and answers through `routes`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Request, Response, request

from local.fake_partners import answers, media
from local.fake_partners.routes import COMPILED, GROUPS
from local.fake_partners.state import Failure, Received, State

# The credential each fake expects (PARTNER_CREDENTIALS for the gateway); Kling's is ACCESS:SECRET.
CREDENTIALS = {
    "openai": "sk-fake-openai",
    "stability": "sk-fake-stability",
    "runway": "fake-runway-key",
    "bfl": "fake-bfl-key",
    "kling": "fake-kling-access:fake-kling-secret-key-of-32-bytes-or-more",
    "ideogram": "fake-ideogram-key",
    "recraft": "fake-recraft-key",
    "luma": "fake-luma-key",
    "pixverse": "fake-pixverse-key",
    "pika": "fake-pika-key",
    "tripo": "fake-tripo-key",
    "moonvalley": "fake-moonvalley-key",
    "hitpaw": "fake-hitpaw-key",
}
HEADER_AUTH = {"bfl": "x-key", "ideogram": "Api-Key", "pixverse": "API-KEY", "pika": "X-API-KEY", "hitpaw": "Apikey"}
for _group in GROUPS:
    CREDENTIALS.update(_group.CREDENTIALS)
    HEADER_AUTH.update(_group.HEADER_AUTH)
AUTH_CHECKS = {name: check for group in GROUPS for name, check in group.AUTH_CHECKS.items()}
HANG_SECONDS = 3.0


class FakePartners:
    def __init__(self, polls_to_finish: int = 2) -> None:
        self.state = State(polls_to_finish)
        self.app = Flask("fake_partners")
        self.app.add_url_rule("/files/<name>", "files", self._file)
        self.app.add_url_rule(
            "/<partner>/", "root", self._serve, methods=["GET", "POST", "PATCH", "PUT"], defaults={"rest": ""}
        )
        self.app.add_url_rule("/<partner>/<path:rest>", "partner", self._serve, methods=["GET", "POST", "PATCH", "PUT"])
        self._server: Any = None
        self.base = ""

    # -- running ------------------------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        from werkzeug.serving import make_server

        self._server = make_server(host, port, self.app, threaded=True)
        self.base = f"http://{host}:{self._server.port}"
        threading.Thread(target=self._server.serve_forever, name="fake-partners", daemon=True).start()
        return self.base

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[FakePartners]:
        """Fake partners on a free loopback port for the block, stopped after it."""
        fakes = cls()
        fakes.start()
        try:
            yield fakes
        finally:
            fakes.stop()

    def base_urls(self) -> dict[str, str]:
        return {partner: f"{self.base}/{partner}" for partner in CREDENTIALS}

    # -- what tests ask -----------------------------------------------------------------------------------------------
    def fail(self, partner: str, mode: str, times: int = 1, retry_after: int = 1) -> None:
        with self.state.lock:
            self.state.failures[partner] = Failure(mode, times, retry_after)

    def received(self, partner: str | None = None) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.received if partner is None or r.partner == partner]

    # -- serving ------------------------------------------------------------------------------------------------------
    def _file(self, name: str) -> Response:
        data, kind = media.BY_EXTENSION.get(name.rsplit(".", 1)[-1], (media.PNG, "image/png"))
        return Response(data, mimetype=kind)

    def _serve(self, partner: str, rest: str) -> Response:
        path = f"/{rest}" if rest else ""
        self.state.record(
            Received(
                partner, request.method, path, request.query_string.decode(), dict(request.headers), request.get_data()
            )
        )
        refused = self._check_auth(partner, request)
        if refused is not None:
            return refused
        failure = self.state.take_failure(partner)
        if failure is not None:
            return _play(failure)
        for name, method, pattern, handler in COMPILED:
            if name == partner and method == request.method and pattern.fullmatch(path):
                try:
                    return handler(answers.Context(self.state, request, self.base, partner, path))
                except (TypeError, ValueError, AttributeError) as exc:  # a body no partner would take
                    return answers.js({"error": {"message": f"invalid request: {exc}", "type": "invalid_request"}}, 400)
        return answers.not_found()

    def _check_auth(self, partner: str, req: Request) -> Response | None:
        expected = CREDENTIALS.get(partner)
        if expected is None:
            return answers.not_found()
        if partner == "kling":
            ok = _kling_token_ok(req.headers.get("Authorization", ""), expected)
        elif partner in AUTH_CHECKS:
            ok = AUTH_CHECKS[partner](req, expected)
        elif partner in HEADER_AUTH:
            ok = req.headers.get(HEADER_AUTH[partner]) == expected
        else:
            ok = req.headers.get("Authorization") == f"Bearer {expected}"
        if partner == "runway" and not req.headers.get("X-Runway-Version"):
            return answers.js({"error": "X-Runway-Version is required"}, 400)
        if partner == "pixverse":
            trace = req.headers.get("Ai-trace-id", "")
            with self.state.lock:
                if not trace or trace in self.state.trace_ids:
                    return answers.js({"ErrCode": 400, "ErrMsg": "Ai-trace-id missing or reused"}, 400)
                self.state.trace_ids.add(trace)
        return None if ok else answers.js({"error": "invalid credential"}, 401)


def _kling_token_ok(authorization: str, credential: str) -> bool:
    import jwt

    access, _, secret = credential.partition(":")
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer":
        return False
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=access)
    except jwt.PyJWTError:
        return False
    return bool(claims["exp"] <= time.time() + 1800 + 5 and claims["nbf"] <= time.time())


def _play(failure: Failure) -> Response:
    if failure.mode == "429":
        return answers.js({"error": "rate limited"}, 429, {"Retry-After": str(failure.retry_after)})
    if failure.mode == "html":
        return Response("<html><body>502 Bad Gateway</body></html>", status=500, mimetype="text/html")
    if failure.mode == "hang":
        time.sleep(HANG_SECONDS)
        return answers.js({"late": True})
    if failure.mode == "reset":
        return Response(_broken(), headers={"Content-Length": "4096"}, mimetype="application/json")
    return answers.js({"error": {"message": "upstream exploded", "type": "server_error"}}, 500)


def _broken() -> Iterator[bytes]:
    yield b'{"partial": '
    raise ConnectionResetError("the fake partner drops the connection")
