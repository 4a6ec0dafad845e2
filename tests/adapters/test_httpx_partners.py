"""The gateway's PartnerTransport over httpx against a real loopback server: bodies arrive in pieces as sent, a read
is bounded, a hang is a timeout, a refused connection and a body cut short are PartnerUnreachable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response
from werkzeug.serving import make_server

from shared.adapters.httpx_partners import HttpxPartnerTransport
from shared.proxy.ports import Outbound, PartnerUnreachable

release = threading.Event()
app = Flask("partner")


@app.post("/echo")
def echo() -> Response:
    from flask import request

    return Response(request.get_data(), headers={"X-Seen-Key": request.headers.get("x-key", "")})


@app.get("/pieces")
def pieces() -> Response:
    def body() -> Iterator[bytes]:
        yield b"first"
        release.wait(timeout=5)
        yield b"second"

    return Response(body(), mimetype="text/event-stream")


@app.get("/slow")
def slow() -> Response:
    time.sleep(1.5)
    return Response("late")


@app.get("/cut")
def cut() -> Response:
    def body() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("gone")

    return Response(body(), headers={"Content-Length": "100"})


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_and_headers_go_out_and_come_back(base: str) -> None:
    transport = HttpxPartnerTransport()
    answer = transport.send(Outbound("POST", f"{base}/echo", {"x-key": "k"}, b"payload"))
    assert answer.status == 200 and answer.headers["x-seen-key"] == "k"
    assert answer.read(1024) == b"payload"
    with pytest.raises(PartnerUnreachable):
        transport.send(Outbound("POST", f"{base}/echo", {}, b"x" * 100)).read(10)
    transport.close()


def test_pieces_arrive_as_sent(base: str) -> None:
    release.clear()
    transport = HttpxPartnerTransport()
    chunks = transport.send(Outbound("GET", f"{base}/pieces", {})).chunks()
    assert next(chunks) == b"first"  # while the server still holds the second piece back
    release.set()
    assert b"".join(chunks) == b"second"
    transport.close()


def test_failures_are_partner_unreachable(base: str) -> None:
    transport = HttpxPartnerTransport()
    with pytest.raises(PartnerUnreachable) as hung:
        transport.send(Outbound("GET", f"{base}/slow", {}, timeout_seconds=0.3))
    assert hung.value.timed_out
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    with pytest.raises(PartnerUnreachable) as refused:
        transport.send(Outbound("GET", f"http://127.0.0.1:{closed}/", {}, timeout_seconds=2))
    assert not refused.value.timed_out
    with pytest.raises(PartnerUnreachable):
        transport.send(Outbound("GET", f"{base}/cut", {})).read(1000)
    transport.close()
