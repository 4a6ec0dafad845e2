"""MiniMax, Vidu, Wan, WaveSpeed, Meshy and fal through the gateway against their fakes: each job protocol to its
end, charged its price once with the partner's credential (never the caller's key), another customer kept out of
it, failed and cancelled jobs free; a partner's 429, 500 and hang free too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.test import TestResponse

from functions.proxy.gateway.wiring import gateway_of
from functions.proxy.jobs.settle import follow_due
from local.fake_partners import CREDENTIALS
from shared.db.proxy_models import ProxyJob
from shared.db.types import utcnow
from tests.proxy.support import ProxyClient

USD = 1_000_000
AUTH = {  # where each partner's credential goes
    "minimax": ("Authorization", f"Bearer {CREDENTIALS['minimax']}"),
    "vidu": ("Authorization", "Token " + CREDENTIALS["vidu"]),
    "wan": ("Authorization", f"Bearer {CREDENTIALS['wan']}"),
    "wavespeed": ("Authorization", f"Bearer {CREDENTIALS['wavespeed']}"),
    "meshy": ("Authorization", f"Bearer {CREDENTIALS['meshy']}"),
    "fal": ("Authorization", "Key " + CREDENTIALS["fal"]),
}


def submit(proxy: ProxyClient, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = proxy.with_key("POST", path, key, json_body=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    answer = r.get_json()
    assert isinstance(answer, dict)
    return answer


def poll_until(proxy: ProxyClient, key: str, path: str, word: Callable[[Any], str], end: set[str]) -> TestResponse:
    """Poll `path` until its status word is one of `end` (the fake finishes on the second poll)."""
    for _ in range(4):
        r = proxy.with_key("GET", path, key)
        assert r.status_code == 200, r.get_data(as_text=True)
        if word(r.get_json()) in end:
            return r
    raise AssertionError(f"{path} never reached {end}")


def assert_credential_only(proxy: ProxyClient, partner: str, key: str) -> None:
    header, value = AUTH[partner]
    received = proxy.fakes.received(partner)
    assert received and all(r.headers.get(header) == value for r in received)
    assert all(key not in json.dumps(r.headers) for r in received)


def assert_charged_once(proxy: ProxyClient, uid: str, price: int) -> None:
    assert len(proxy.charges(uid)) == 1  # one capture (its entry moves the whole hold), of exactly the price:
    assert proxy.available(uid) == 10 * USD - price and proxy.held(uid) == 0
    proxy.assert_balanced()


def assert_free(proxy: ProxyClient, uid: str) -> None:
    assert proxy.charges(uid) == [] and proxy.held(uid) == 0 and proxy.available(uid) == 10 * USD
    proxy.assert_balanced()


# -- MiniMax ----------------------------------------------------------------------------------------------------------


def test_minimax_hailuo_job_is_polled_by_query_and_charged_its_badge_once(proxy: ProxyClient) -> None:
    key, other = proxy.customer("mia", 10 * USD), proxy.customer("max", 10 * USD)
    body = {"model": "MiniMax-Hailuo-02", "prompt": "waves", "duration": 10, "resolution": "768P"}
    task = submit(proxy, key, "/proxy/minimax/video_generation", body)["task_id"]
    assert proxy.available("mia") == 10 * USD - 560_000 and proxy.held("mia") == 1  # 10 s at 768P: $0.56
    poll = f"/proxy/minimax/query/video_generation?task_id={task}"
    assert proxy.with_key("GET", poll, other).status_code == 404  # someone else's task
    done = poll_until(proxy, key, poll, lambda b: b["status"], {"Success", "Fail"})
    assert done.get_json()["status"] == "Success" and done.get_json()["file_id"]
    assert proxy.with_key("GET", poll, key).status_code == 200  # a later poll charges nothing more
    assert_charged_once(proxy, "mia", 560_000)
    assert_credential_only(proxy, "minimax", key)
    assert {r.path for r in proxy.fakes.received("minimax")} == {"/v1/video_generation", "/v1/query/video_generation"}


def test_a_minimax_file_is_retrieved_by_its_owner_only_as_comfy_generate_does(proxy: ProxyClient) -> None:
    key, other = proxy.customer("mo", 10 * USD), proxy.customer("mu", 10 * USD)
    task = submit(proxy, key, "/proxy/minimax/video_generation", {"model": "T2V-01", "prompt": "x"})["task_id"]
    poll = f"/proxy/minimax/query/video_generation?task_id={task}"
    file_id = poll_until(proxy, key, poll, lambda b: b["status"], {"Success"}).get_json()["file_id"]
    retrieve = f"/proxy/minimax/files/retrieve?file_id={file_id}"
    for method in ("GET", "POST"):  # ComfyUI's client sends GET, the spec names POST
        assert proxy.with_key(method, retrieve, other).status_code == 404
        mine = proxy.with_key(method, retrieve, key)
        assert mine.status_code == 200 and mine.get_json()["file"]["download_url"].endswith(".mp4")
    sent = [r for r in proxy.fakes.received("minimax") if r.path == "/v1/files/retrieve"]
    assert [(r.method, r.query) for r in sent] == [("GET", f"file_id={file_id}"), ("POST", f"file_id={file_id}")]
    assert proxy.with_key("GET", "/proxy/minimax/files/retrieve?file_id=1", key).status_code == 404  # no file of theirs
    assert_charged_once(proxy, "mo", 430_000)  # an older model: $0.43 a video; the retrievals are free


def test_minimax_v2_regeneration_pays_the_reported_length_and_a_failed_one_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("nia", 10 * USD)
    body: dict[str, Any] = {"model": "MiniMax-H3", "resolution": "2K", "source_task_id": "t-1"}
    task = submit(proxy, key, "/proxy/minimax/v2/video_regeneration", body)["task_id"]
    assert proxy.available("nia") == 10 * USD - 3 * USD  # held at 15 s of 2K
    done = poll_until(
        proxy, key, f"/proxy/minimax/v2/query/video_generation/{task}", lambda b: b["task"]["status"], {"succeeded"}
    )
    assert done.get_json()["task"]["content"]["url"].endswith(".mp4")
    assert_charged_once(proxy, "nia", 6 * 200_000)  # the 6 s it reported, at $0.20 a second
    for prompt in ("please fail", "then cancel"):
        body = {
            "model": "MiniMax-H3",
            "resolution": "768P",
            "duration": 5,
            "content": [{"type": "text", "text": prompt}],
        }
        task = submit(proxy, key, "/proxy/minimax/v2/video_generation", body)["task_id"]
        end = poll_until(
            proxy,
            key,
            f"/proxy/minimax/v2/query/video_generation/{task}",
            lambda b: b["task"]["status"],
            {"failed", "cancelled"},
        )
        assert end.get_json()["task"]["status"] == ("failed" if "fail" in prompt else "cancelled")
    assert len(proxy.charges("nia")) == 1 and proxy.held("nia") == 0 and proxy.available("nia") == 10 * USD - 1_200_000


def test_an_abandoned_minimax_job_is_followed_by_its_query_poll(proxy: ProxyClient) -> None:
    key = proxy.customer("noa", 10 * USD)
    proxy.fakes.state.polls_to_finish = 1
    submit(proxy, key, "/proxy/minimax/video_generation", {"model": "MiniMax-Hailuo-02", "resolution": "1080P"})
    with proxy.container.sessions() as s:
        s.execute(update(ProxyJob).values(next_check_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert follow_due(gateway_of(proxy.container)) == {"succeeded": 1}
    assert_charged_once(proxy, "noa", 490_000)  # 1080P: $0.49


# -- Vidu -------------------------------------------------------------------------------------------------------------


def test_vidu_job_is_charged_the_credits_it_reports(proxy: ProxyClient) -> None:
    key, other = proxy.customer("vi", 10 * USD), proxy.customer("vo", 10 * USD)
    answer = submit(proxy, key, "/proxy/vidu/text2video", {"model": "viduq1", "prompt": "a fox", "duration": 5})
    assert answer["state"] == "created" and answer["credits"] == 80
    creations = f"/proxy/vidu/tasks/{answer['task_id']}/creations"
    assert proxy.with_key("GET", creations, other).status_code == 404
    done = poll_until(proxy, key, creations, lambda b: b["state"], {"success", "failed"})
    assert done.get_json()["creations"][0]["url"].endswith(".mp4")
    assert_charged_once(proxy, "vi", 80 * 5_000)  # 80 credits at $0.005
    assert_credential_only(proxy, "vidu", key)


@pytest.mark.parametrize("path", ["/proxy/vidu/img2video", "/proxy/vidu/extend", "/proxy/vidu/multiframe"])
def test_a_failed_vidu_job_costs_nothing(proxy: ProxyClient, path: str) -> None:
    key = proxy.customer("vu", 10 * USD)
    task = submit(proxy, key, path, {"model": "viduq2-pro", "prompt": "please fail", "images": ["https://x/a.png"]})
    end = poll_until(proxy, key, f"/proxy/vidu/tasks/{task['task_id']}/creations", lambda b: b["state"], {"failed"})
    assert end.get_json()["creations"] == []
    assert_free(proxy, "vu")


# -- Wan --------------------------------------------------------------------------------------------------------------

_WAN_VIDEO = "/proxy/wan/api/v1/services/aigc/video-generation/video-synthesis"


def test_wan_video_asks_dashscope_asynchronously_and_pays_its_seconds(proxy: ProxyClient) -> None:
    key, other = proxy.customer("wen", 10 * USD), proxy.customer("wu", 10 * USD)
    body = {
        "model": "wan2.5-t2v-preview",
        "input": {"prompt": "x"},
        "parameters": {"resolution": "720P", "duration": 10},
    }
    task = submit(proxy, key, _WAN_VIDEO, body)["output"]["task_id"]
    assert proxy.with_key("GET", f"/proxy/wan/api/v1/tasks/{task}", other).status_code == 404
    done = poll_until(
        proxy, key, f"/proxy/wan/api/v1/tasks/{task}", lambda b: b["output"]["task_status"], {"SUCCEEDED"}
    )
    assert done.get_json()["output"]["video_url"].endswith(".mp4")
    assert_charged_once(proxy, "wen", 10 * 100_000)  # 720P: $0.10 a second
    assert_credential_only(proxy, "wan", key)
    sent = proxy.fakes.received("wan")
    assert [r.headers.get("X-Dashscope-Async") for r in sent] == ["enable", None, None]  # on the submit only


def test_wan_images_hold_dashscopes_default_four_and_a_cancelled_task_costs_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("wil", 10 * USD)
    path = "/proxy/wan/api/v1/services/aigc/text2image/image-synthesis"
    task = submit(proxy, key, path, {"model": "wan2.5-t2i-preview", "input": {"prompt": "x"}})["output"]["task_id"]
    assert proxy.available("wil") == 10 * USD - 4 * 30_000  # no `n`: DashScope makes four
    poll_until(proxy, key, f"/proxy/wan/api/v1/tasks/{task}", lambda b: b["output"]["task_status"], {"SUCCEEDED"})
    body = {"model": "wan2.6-t2v", "input": {"prompt": "cancel it"}, "parameters": {"resolution": "1080P"}}
    task = submit(proxy, key, _WAN_VIDEO, body)["output"]["task_id"]
    end = poll_until(proxy, key, f"/proxy/wan/api/v1/tasks/{task}", lambda b: b["output"]["task_status"], {"CANCELED"})
    assert end.get_json()["output"]["code"]
    assert len(proxy.charges("wil")) == 1 and proxy.held("wil") == 0 and proxy.available("wil") == 10 * USD - 120_000


def test_wan_partner_refusals_and_silence_cost_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("wim", 10 * USD)
    body = {"model": "wan2.5-t2v-preview", "input": {"prompt": "x"}, "parameters": {"resolution": "480P"}}
    proxy.fakes.fail("wan", "429", retry_after=7)
    limited = proxy.with_key("POST", _WAN_VIDEO, key, json_body=body)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    proxy.fakes.fail("wan", "500")
    assert proxy.with_key("POST", _WAN_VIDEO, key, json_body=body).status_code == 500
    assert len(proxy.fakes.received("wan")) == 2  # a submit is never sent twice
    assert_free(proxy, "wim")


@pytest.mark.parametrize("proxy", [{"PROXY_TIMEOUT_CAP_SECONDS": 0.5}], indirect=True)
def test_a_wan_submit_that_hangs_times_out_free(proxy: ProxyClient) -> None:
    key = proxy.customer("wyn", 10 * USD)
    proxy.fakes.fail("wan", "hang")
    body = {"model": "wan2.5-t2v-preview", "input": {"prompt": "x"}, "parameters": {"resolution": "480P"}}
    r = proxy.with_key("POST", _WAN_VIDEO, key, json_body=body)
    assert r.status_code == 504 and r.get_json()["error"] == "partner_timeout"
    assert_free(proxy, "wyn")


# -- WaveSpeed --------------------------------------------------------------------------------------------------------


def test_wavespeed_upscale_is_charged_its_seconds_and_a_failed_one_nothing(proxy: ProxyClient) -> None:
    key, other = proxy.customer("wes", 10 * USD), proxy.customer("wat", 10 * USD)
    body = {"video": "https://x/clip.mp4", "duration": 20, "target_resolution": "4k"}
    answer = submit(proxy, key, "/proxy/wavespeed/api/v3/wavespeed-ai/flashvsr", body)
    result = f"/proxy/wavespeed/api/v3/predictions/{answer['data']['id']}/result"
    assert answer["code"] == 200 and proxy.with_key("GET", result, other).status_code == 404
    done = poll_until(proxy, key, result, lambda b: b["data"]["status"], {"completed"})
    assert done.get_json()["data"]["outputs"][0].endswith(".mp4")
    assert_charged_once(proxy, "wes", 20 * 32_000)  # 4k: $0.032 a second
    assert_credential_only(proxy, "wavespeed", key)
    image = submit(proxy, key, "/proxy/wavespeed/api/v3/wavespeed-ai/seedvr2/image", {"image": "fail.png"})
    result = f"/proxy/wavespeed/api/v3/predictions/{image['data']['id']}/result"
    assert poll_until(proxy, key, result, lambda b: b["data"]["status"], {"failed"}).get_json()["data"]["error"]
    assert len(proxy.charges("wes")) == 1 and proxy.held("wes") == 0


# -- Meshy ------------------------------------------------------------------------------------------------------------


def test_meshy_task_is_charged_once_and_kept_from_others(proxy: ProxyClient) -> None:
    key, other = proxy.customer("mel", 10 * USD), proxy.customer("mac", 10 * USD)
    task = submit(proxy, key, "/proxy/meshy/openapi/v2/text-to-3d", {"mode": "preview", "prompt": "a chair"})["result"]
    path = f"/proxy/meshy/openapi/v2/text-to-3d/{task}"
    assert proxy.with_key("GET", path, other).status_code == 404
    done = poll_until(proxy, key, path, lambda b: b["status"], {"SUCCEEDED"})
    assert done.get_json()["model_urls"]["glb"].endswith(".glb")
    assert_charged_once(proxy, "mel", 800_000)
    assert_credential_only(proxy, "meshy", key)


def test_meshy_remesh_runs_through_processing_and_cancelled_tasks_cost_nothing(proxy: ProxyClient) -> None:
    key = proxy.customer("moe", 10 * USD)
    proxy.fakes.state.polls_to_finish = 3
    task = submit(proxy, key, "/proxy/meshy/openapi/v1/remesh", {"input_task_id": "t"})["result"]
    words = [
        proxy.with_key("GET", f"/proxy/meshy/openapi/v1/remesh/{task}", key).get_json()["status"] for _ in range(3)
    ]
    assert words == ["PENDING", "PROCESSING", "SUCCEEDED"]
    for path, body in (("rigging", {"input_task_id": "t", "note": "cancel"}), ("image-to-3d", {"image_url": "fail"})):
        task = submit(proxy, key, f"/proxy/meshy/openapi/v1/{path}", body)["result"]
        end = poll_until(
            proxy, key, f"/proxy/meshy/openapi/v1/{path}/{task}", lambda b: b["status"], {"CANCELED", "FAILED"}
        )
        assert end.get_json()["task_error"]["message"]
    assert len(proxy.charges("moe")) == 1 and proxy.held("moe") == 0 and proxy.available("moe") == 10 * USD - 200_000


# -- fal --------------------------------------------------------------------------------------------------------------


def test_fal_queue_job_is_charged_once_whichever_read_sees_it_end(proxy: ProxyClient) -> None:
    key, other = proxy.customer("fay", 10 * USD), proxy.customer("fox", 10 * USD)
    body = {"prompt": "brick", "image_size": {"width": 2048, "height": 2048}, "upscale_factor": "2"}
    request = submit(proxy, key, "/proxy/fal/fal-ai/patina/material", body)["request_id"]
    base = f"/proxy/fal/fal-ai/patina/requests/{request}"
    price = 4 * 40_000 * 2  # 4 megapixels (of 1024x1024) at $0.04, the maps upscaled 2x
    assert proxy.available("fay") == 10 * USD - price
    for path in (base, f"{base}/status"):
        assert proxy.with_key("GET", path, other).status_code == 404
    status = poll_until(proxy, key, f"{base}/status", lambda b: b["status"], {"COMPLETED"})
    assert "error_type" not in status.get_json()
    result = proxy.with_key("GET", base, key)
    assert result.status_code == 200 and result.get_json()["images"][0]["url"].endswith(".png")
    assert proxy.with_key("GET", base, key).status_code == 200
    assert_charged_once(proxy, "fay", price)
    assert_credential_only(proxy, "fal", key)
    video = submit(proxy, key, "/proxy/fal/minimax/h3-max/image-to-video", {"prompt": "x", "resolution": "480P"})
    assert proxy.fakes.state.polls_to_finish == 2  # the result read alone ends it: 400 while in progress, then 200
    reads = [proxy.with_key("GET", f"/proxy/fal/minimax/h3-max/requests/{video['request_id']}", key) for _ in range(2)]
    assert [r.status_code for r in reads] == [400, 200] and reads[1].get_json()["video"]["url"].endswith(".mp4")
    assert len(proxy.charges("fay")) == 2 and proxy.available("fay") == 10 * USD - price - 5 * 50_000


def test_a_failed_fal_request_is_never_charged(proxy: ProxyClient) -> None:
    key = proxy.customer("flo", 10 * USD)
    body = {"prompt": "please fail", "prompt_expansion_mode": "balanced", "duration": 5}
    request = submit(proxy, key, "/proxy/fal/minimax/h3-max/text-to-video", body)["request_id"]
    base = f"/proxy/fal/minimax/h3-max/requests/{request}"
    assert proxy.available("flo") == 10 * USD - 5 * 100_000
    status = poll_until(proxy, key, f"{base}/status", lambda b: b["status"], {"COMPLETED"})
    assert status.get_json()["error_type"] == "content_policy_violation"  # fal completes failures too
    assert proxy.with_key("GET", base, key).status_code == 422
    assert_free(proxy, "flo")


def test_an_abandoned_fal_request_is_followed_by_its_status(proxy: ProxyClient) -> None:
    key = proxy.customer("fin", 10 * USD)
    proxy.fakes.state.polls_to_finish = 1
    submit(proxy, key, "/proxy/fal/fal-ai/patina", {"image_url": "https://x/a.png"})
    with proxy.container.sessions() as s:
        s.execute(update(ProxyJob).values(next_check_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert follow_due(gateway_of(proxy.container)) == {"succeeded": 1}
    assert_charged_once(proxy, "fin", 20_000)  # one megapixel at $0.02
