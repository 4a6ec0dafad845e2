"""Streamed answers pass through piece by piece: the caller holds the first events while the partner has not yet
finished, the call is metered from the stream's reported usage, a caller who leaves pays what was used, and binary
results are passed through with their content type."""

from __future__ import annotations

import threading

from tests.proxy.support import ProxyClient

USD = 1_000_000
STREAM = {"model": "gpt-4.1", "input": "hi", "stream": True}


def test_events_arrive_before_the_partner_finishes_and_the_usage_is_charged(proxy: ProxyClient) -> None:
    key = proxy.customer("sse", 10 * USD)
    gate = proxy.fakes.state.stream_gate = threading.Event()
    response = proxy.client.post("/proxy/openai/v1/responses", json=STREAM, headers={"X-API-Key": key}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    pieces = iter(response.response)
    first = next(pieces)
    assert b"response.created" in first
    assert proxy.fakes.state.streams_finished == 0  # the partner is still holding its last event back
    assert proxy.held("sse") == 1 and proxy.charges("sse") == []
    gate.set()
    rest = b"".join(pieces)
    response.close()
    assert b"response.completed" in rest
    assert len(proxy.charges("sse")) == 1
    assert proxy.available("sse") == 10 * USD - (1000 * 2 + 500 * 8)  # the usage reported, at $2 / $8 per M tokens
    assert proxy.held("sse") == 0
    proxy.assert_balanced()


def test_a_caller_who_leaves_before_the_usage_pays_the_calls_price(proxy: ProxyClient) -> None:
    key = proxy.customer("quitter", 10 * USD)
    proxy.fakes.state.stream_gate = threading.Event()  # never set while the caller listens: the usage never comes
    response = proxy.client.post("/proxy/openai/v1/responses", json=STREAM, headers={"X-API-Key": key}, buffered=False)
    assert b"response.created" in next(iter(response.response))
    response.close()  # the caller hangs up: the upstream call is closed and the call settled
    proxy.fakes.state.stream_gate.set()
    # The partner worked and bills us; with no usage reported the call pays its hold ($1 of tokens), no more.
    assert len(proxy.charges("quitter")) == 1 and proxy.held("quitter") == 0
    assert proxy.available("quitter") == 10 * USD - USD
    proxy.assert_balanced()


def test_asking_for_a_stream_does_not_make_a_json_answer_free(proxy: ProxyClient) -> None:
    key = proxy.customer("sly", 10 * USD)
    r = proxy.with_key(
        "POST",
        "/proxy/ideogram/ideogram-v3/generate",
        key,
        json_body={"prompt": "x", "rendering_speed": "TURBO", "stream": True},
    )
    assert r.status_code == 200 and r.headers["X-Comfy-Credits-Used"] == "6.33"
    assert proxy.available("sly") == 10 * USD - 30_000


def test_a_binary_result_passes_through_with_its_type_and_price(proxy: ProxyClient) -> None:
    key = proxy.customer("bin", 10 * USD)
    form = b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--b--\r\n'
    r = proxy.client.post(
        "/proxy/stability/v2beta/stable-image/generate/ultra",
        data=form,
        headers={"X-API-Key": key, "Accept": "image/*", "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.get_data().startswith(b"\x89PNG")
    assert r.headers["X-Comfy-Credits-Used"] == "16.88"  # $0.08 x 211, known from the request
    [sent] = proxy.fakes.received("stability")
    assert sent.headers["Accept"] == "image/*" and sent.body.startswith(b"--b")
    assert proxy.available("bin") == 10 * USD - 80_000
