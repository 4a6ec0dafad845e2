"""Edges a review found: what reaches the partner is built from what was checked (a poll names only the caller's
job; a header is printable ASCII), bodies the price cannot read or parse are refused before anything is held, the
gateway's larger bodies get through, and each partner is called at its own path."""

from __future__ import annotations

from tests.proxy.support import ProxyClient

USD = 1_000_000


def test_a_poll_names_only_the_callers_job(proxy: ProxyClient) -> None:
    key = proxy.customer("own", 10 * USD)
    other = proxy.customer("oth", 10 * USD)
    mine = proxy.with_key("POST", "/proxy/kling/text-to-video/kling-3.0-turbo", key, json_body={}).get_json()
    theirs = proxy.with_key("POST", "/proxy/kling/text-to-video/kling-3.0-turbo", other, json_body={}).get_json()
    mine_id, theirs_id = mine["data"]["id"], theirs["data"]["id"]
    r = proxy.with_key("GET", f"/proxy/kling/tasks?task_ids={mine_id}&task_ids={theirs_id}&x=1", key)
    assert r.status_code == 200 and r.get_json()["data"][0]["id"] == mine_id
    [poll] = [p for p in proxy.fakes.received("kling") if p.path == "/tasks"]
    assert poll.query == f"task_ids={mine_id}"  # the other id and parameter never reached the partner


def test_a_header_that_is_not_ascii_is_refused_before_any_hold(proxy: ProxyClient) -> None:
    key = proxy.customer("hdr", USD)
    r = proxy.with_key("POST", "/proxy/recraft/image_generation", key, json_body={}, headers={"Accept": "café"})
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_header"
    assert proxy.held("hdr") == 0 and proxy.fakes.received() == []


def test_unreadable_bodies_are_refused_before_any_hold(proxy: ProxyClient) -> None:
    key = proxy.customer("bod", USD)
    deep = "[" * 5000 + "]" * 5000
    for raw in ('{"num_images": 1e999}', deep, '{"prompt": NaN}'):
        r = proxy.with_key("POST", "/proxy/ideogram/ideogram-v3/generate", key, data=raw)
        assert r.status_code == 400, raw[:20]
    huge = proxy.with_key("POST", "/proxy/ideogram/ideogram-v3/generate", key, data='{"num_images": 1e300}')
    assert huge.status_code == 200  # a count out of bounds prices as the most a call may ask for
    assert proxy.available("bod") == USD - 10 * 60_000
    assert proxy.held("bod") == 0


def test_a_large_upload_gets_through(proxy: ProxyClient) -> None:
    key = proxy.customer("big", USD)
    part = b"x" * (12 * 1024 * 1024)
    form = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n' + part + b"\r\n--b--\r\n"
    r = proxy.client.post(
        "/proxy/pixverse/image/upload",
        data=form,
        headers={"X-API-Key": key, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 200
    [sent] = proxy.fakes.received("pixverse")
    assert len(sent.body) == len(form)


def test_each_partner_is_called_at_its_own_path(proxy: ProxyClient) -> None:
    key = proxy.customer("paths", 10 * USD)
    calls = [
        ("/proxy/openai/images/generations", "openai", "/v1/images/generations"),
        ("/proxy/bfl/flux-kontext-pro/generate", "bfl", "/v1/flux-kontext-pro"),
        ("/proxy/ideogram/ideogram-v3/generate", "ideogram", "/v1/ideogram-v3/generate"),
        ("/proxy/recraft/image_generation", "recraft", "/images/generations"),
    ]
    for path, partner, upstream in calls:
        assert proxy.with_key("POST", path, key, json_body={"prompt": "x"}).status_code == 200, path
        assert proxy.fakes.received(partner)[-1].path == upstream


def test_a_charged_call_whose_body_cannot_be_priced_is_refused(proxy: ProxyClient) -> None:
    key = proxy.customer("txt", USD)
    r = proxy.client.post(
        "/proxy/ideogram/ideogram-v3/generate",
        data=b'{"num_images": 8, "rendering_speed": "QUALITY"}',
        headers={"X-API-Key": key, "Content-Type": "text/plain"},
    )
    assert r.status_code == 400 and r.get_json()["error"] == "unsupported_body"
    assert proxy.held("txt") == 0 and proxy.fakes.received() == []
