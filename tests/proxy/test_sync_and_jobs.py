"""Each job protocol through the gateway against the fake partners: the partner's credential injected and the
caller's removed, the answer passed on, the price captured once, failures free."""

from __future__ import annotations

import jwt

from local.fake_partners import CREDENTIALS
from tests.proxy.support import ProxyClient

USD = 1_000_000


def test_a_sync_json_call_is_charged_its_price_and_says_so(proxy: ProxyClient) -> None:
    key = proxy.customer("ana", 10 * USD)
    r = proxy.with_key(
        "POST",
        "/proxy/ideogram/ideogram-v3/generate",
        key,
        json_body={"prompt": "a fox", "rendering_speed": "TURBO", "num_images": 2},
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [d["url"].endswith(".png") for d in r.get_json()["data"]] == [True, True]
    assert proxy.available("ana") == 10 * USD - 2 * 30_000  # two TURBO images at $0.03
    assert r.headers["X-Comfy-Credits-Used"] == "12.66"  # $0.06 x 211
    assert len(r.headers["X-Comfy-Request-Id"]) == 32
    [charge] = proxy.charges("ana")
    assert charge.amount == 60_000 and charge.details["request_id"] == r.headers["X-Comfy-Request-Id"]
    [sent] = proxy.fakes.received("ideogram")
    assert sent.headers["Api-Key"] == CREDENTIALS["ideogram"]
    assert "X-Api-Key" not in sent.headers and "Authorization" not in sent.headers
    proxy.assert_balanced()


def test_token_metered_calls_pay_the_partners_usage(proxy: ProxyClient) -> None:
    key = proxy.customer("ben", 10 * USD)
    r = proxy.with_key(
        "POST", "/proxy/openai/images/generations", key, json_body={"prompt": "x", "model": "gpt-image-1"}
    )
    assert r.status_code == 200
    assert proxy.available("ben") == 10 * USD - (50 * 10 + 1000 * 40)  # tokens at $10/M in, $40/M out
    [sent] = proxy.fakes.received("openai")
    assert sent.headers["Authorization"] == f"Bearer {CREDENTIALS['openai']}"


def test_a_job_is_charged_once_when_a_poll_sees_it_finish(proxy: ProxyClient) -> None:
    key = proxy.customer("cai", 10 * USD)
    submitted = proxy.with_key(
        "POST", "/proxy/kling/v1/videos/text2video", key, json_body={"prompt": "waves", "mode": "std", "duration": "10"}
    )
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    task = submitted.get_json()["data"]["task_id"]
    price = 10 * 56_000
    assert proxy.available("cai") == 10 * USD - price and proxy.held("cai") == 1  # held, not charged yet
    first = proxy.with_key("GET", f"/proxy/kling/v1/videos/text2video/{task}", key)
    assert first.get_json()["data"]["task_status"] == "submitted" and "X-Comfy-Credits-Used" not in first.headers
    done = proxy.with_key("GET", f"/proxy/kling/v1/videos/text2video/{task}", key)
    assert done.get_json()["data"]["task_status"] == "succeed"
    assert done.headers["X-Comfy-Credits-Used"] == "118.16"
    for _ in range(3):  # later polls charge nothing more
        assert proxy.with_key("GET", f"/proxy/kling/v1/videos/text2video/{task}", key).status_code == 200
    assert proxy.available("cai") == 10 * USD - price and proxy.held("cai") == 0
    assert len(proxy.charges("cai")) == 1
    token = proxy.fakes.received("kling")[0].headers["Authorization"].removeprefix("Bearer ")
    access, secret = CREDENTIALS["kling"].split(":")
    assert jwt.decode(token, secret, algorithms=["HS256"], issuer=access)["iss"] == access
    proxy.assert_balanced()


def test_a_failed_job_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("dee", 10 * USD)
    submitted = proxy.with_key(
        "POST", "/proxy/luma/generations", key, json_body={"prompt": "please fail", "model": "ray-2"}
    )
    assert submitted.status_code == 201
    job = submitted.get_json()["id"]
    states = [proxy.with_key("GET", f"/proxy/luma/generations/{job}", key).get_json()["state"] for _ in range(2)]
    assert states == ["queued", "failed"]
    assert proxy.available("dee") == 10 * USD and proxy.charges("dee") == [] and proxy.held("dee") == 0
    proxy.assert_balanced()


def test_black_forest_labs_polls_through_the_gateway_and_pays_the_reported_cost(proxy: ProxyClient) -> None:
    key = proxy.customer("eve", 10 * USD)
    submitted = proxy.with_key("POST", "/proxy/bfl/flux-pro-1.1/generate", key, json_body={"prompt": "owl"})
    body = submitted.get_json()
    assert body["polling_url"] == f"http://127.0.0.1:8080/proxy/bfl/v1/get_result?id={body['id']}"
    path = body["polling_url"].removeprefix("http://127.0.0.1:8080")
    results = [proxy.with_key("GET", path, key).get_json() for _ in range(2)]
    assert [r["status"] for r in results] == ["Pending", "Ready"]
    assert results[1]["result"]["sample"].endswith(".png")
    assert proxy.available("eve") == 10 * USD - 45_000  # the partner's 4.5 credits at $0.01
    polls = [r for r in proxy.fakes.received("bfl") if r.method == "GET"]
    assert polls and all(r.headers["X-Key"] == CREDENTIALS["bfl"] for r in polls)


def test_a_job_is_only_its_owners(proxy: ProxyClient) -> None:
    owner = proxy.customer("fay", 10 * USD)
    other = proxy.customer("gus", 10 * USD)
    job = proxy.with_key(
        "POST", "/proxy/runway/image_to_video", owner, json_body={"promptImage": "x", "duration": 5}
    ).get_json()["id"]
    sent_before = len(proxy.fakes.received("runway"))
    stranger = proxy.with_key("GET", f"/proxy/runway/tasks/{job}", other)
    assert stranger.status_code == 404 and stranger.get_json()["error"] == "job_not_found"
    nobody = proxy.with_key("GET", "/proxy/runway/tasks/no-such-task", owner)
    assert nobody.status_code == 404 and nobody.get_json()["error"] == "job_not_found"
    assert len(proxy.fakes.received("runway")) == sent_before  # neither reached the partner
    assert proxy.with_key("GET", f"/proxy/runway/tasks/{job}", owner).status_code == 200


def test_refusals_never_reach_the_partner(proxy: ProxyClient) -> None:
    poor = proxy.customer("hal", 10_000)
    assert proxy.call("POST", "/proxy/recraft/image_generation", json_body={"prompt": "x"}).status_code == 401
    bad = proxy.with_key("POST", "/proxy/recraft/image_generation", "comfyui-" + "0" * 64, json_body={"prompt": "x"})
    assert bad.status_code == 401
    broke = proxy.with_key("POST", "/proxy/recraft/image_generation", poor, json_body={"prompt": "x"})
    assert broke.status_code == 402 and broke.get_json()["error"] == "insufficient_credit"
    unknown = proxy.with_key("POST", "/proxy/recraft/not-a-route", poor, json_body={})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "route_not_found"
    listing = proxy.with_key("GET", "/proxy/kling/v1/videos/text2video", poor)
    assert listing.status_code == 404 and listing.get_json()["error"] == "route_not_found"
    assert proxy.fakes.received() == []
    assert proxy.available("hal") == 10_000 and proxy.held("hal") == 0


def test_a_job_polled_by_post_with_its_id_in_the_body(proxy: ProxyClient) -> None:
    key = proxy.customer("hal2", 10 * USD)
    other = proxy.customer("ike", 10 * USD)
    submitted = proxy.with_key(
        "POST", "/proxy/hitpaw/api/photo-enhancer", key, json_body={"img_url": "https://x/a.png"}
    )
    job = submitted.get_json()["data"]["job_id"]
    stranger = proxy.with_key("POST", "/proxy/hitpaw/api/task-status", other, json_body={"job_id": job})
    assert stranger.status_code == 404 and stranger.get_json()["error"] == "job_not_found"
    polls = [proxy.with_key("POST", "/proxy/hitpaw/api/task-status", key, json_body={"job_id": job}) for _ in range(2)]
    assert [p.get_json()["data"]["status"] for p in polls] == ["WAITING", "COMPLETED"]
    assert polls[1].headers["X-Comfy-Credits-Used"] == "10.55"  # $0.05 x 211
    assert proxy.available("hal2") == 10 * USD - 50_000 and len(proxy.charges("hal2")) == 1
    [sent] = [r for r in proxy.fakes.received("hitpaw") if r.path == "/api/photo-enhancer"]
    assert sent.headers["Apikey"] == "fake-hitpaw-key"
